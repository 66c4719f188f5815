#!/bin/bash -e
# Read-only root with a RAM overlay (overlayroot, as raspi-config's "Overlay File System" uses),
# and /var/lib/border-gate on its own ext4 partition (label gatedata), writable and persistent.
#   - recurse=0: only / is overlaid; the gatedata mount stays a real, persistent file system.
#   - the partition is made at first boot from the free space after the root partition, by
#     border-gate-datafs.service, which seeds it with the image's /var/lib/border-gate.
#   - Raspberry Pi OS's first boot would grow the root partition over that space, and a
#     read-only root needs no room to grow: its init= hook is removed from cmdline.txt.
#   - gate-app and gate-safety require the mount: never an outbox on the RAM overlay.
#   - /etc and /opt are on the overlay: configuration, provisioning and updates persist only in
#     maintenance mode (`border-gate-maintenance on`, reboot; `gatectl update apply` refuses to
#     install onto the overlay, where a reboot would silently undo it).
BOOT="${ROOTFS_DIR}/boot/firmware"
CMDLINE="${BOOT}/cmdline.txt"
sed -i -e 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' -e 's| overlayroot=[^ ]*||' "${CMDLINE}"
sed -i -e '1 s|$| overlayroot=tmpfs:recurse=0|' "${CMDLINE}"

install -m 755 files/border-gate-datafs files/border-gate-maintenance "${ROOTFS_DIR}/usr/local/sbin/"
install -m 644 files/border-gate-datafs.service "${ROOTFS_DIR}/etc/systemd/system/"
for unit in gate-app gate-safety; do
	install -d -m 755 "${ROOTFS_DIR}/etc/systemd/system/${unit}.service.d"
	install -m 644 files/persistent-state.conf "${ROOTFS_DIR}/etc/systemd/system/${unit}.service.d/"
done
grep -q 'LABEL=gatedata' "${ROOTFS_DIR}/etc/fstab" ||
	echo 'LABEL=gatedata /var/lib/border-gate ext4 defaults,noatime,x-systemd.requires=border-gate-datafs.service 0 2' \
		>> "${ROOTFS_DIR}/etc/fstab"

on_chroot <<CHROOT
systemctl enable border-gate-datafs.service
update-initramfs -u -k all
CHROOT
