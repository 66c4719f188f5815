#!/bin/bash -e
# Install the border-gate package (put in files/ by packaging/image/prepare-stage.sh) with apt,
# which pulls its Debian dependencies (python3, pcscd, ...) from the Raspberry Pi OS archive, and
# register it as the installed version's package so the first update can be rolled back.
shopt -s nullglob
debs=(files/border-gate_*_arm64.deb)
if [ "${#debs[@]}" -ne 1 ]; then
	echo "stage-border-gate: expected exactly one files/border-gate_*_arm64.deb, found ${#debs[@]}" >&2
	exit 1
fi
install -m 644 "${debs[0]}" "${ROOTFS_DIR}/tmp/border-gate.deb"
if [ "${BORDER_GATE_KIOSK:-0}" = "1" ]; then
	KIOSK_PACKAGES="cage chromium"
else
	KIOSK_PACKAGES=""
fi
on_chroot <<CHROOT
apt-get install -y --no-install-recommends /tmp/border-gate.deb polkitd ${KIOSK_PACKAGES}
/opt/border-gate/.venv/bin/gatectl update keep /tmp/border-gate.deb --config /etc/border-gate/gate.toml
rm -f /tmp/border-gate.deb
CHROOT
