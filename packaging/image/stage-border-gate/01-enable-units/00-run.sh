#!/bin/bash -e
# The appliance and its door safety controller start at boot (the package's postinst enabled
# gate-app already); the kiosk browser too when BORDER_GATE_KIOSK=1 (exported in pi-gen's config).
UNITS="gate-app.service gate-safety.service"
if [ "${BORDER_GATE_KIOSK:-0}" = "1" ]; then
	UNITS="${UNITS} kiosk-browser.service"
fi
on_chroot <<CHROOT
systemctl enable ${UNITS}
# A border gate is not a desktop: no login prompt on the kiosk's screen.
systemctl disable getty@tty1.service || true
CHROOT
