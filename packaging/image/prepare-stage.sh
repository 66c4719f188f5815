#!/bin/bash
# Copies stage-border-gate into a pi-gen checkout with the arm64 package, ready for ./build.sh
# (or ./build-docker.sh).   packaging/image/prepare-stage.sh PI_GEN_DIR dist/border-gate_X_arm64.deb
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -f "$2" ]; then
	echo "usage: $0 PI_GEN_DIR border-gate_<version>_arm64.deb" >&2
	exit 2
fi
PI_GEN=$1 DEB=$2
case "$(basename "${DEB}")" in
	border-gate_*_arm64.deb) ;;
	*) echo "$0: ${DEB} is not an arm64 border-gate package" >&2; exit 2 ;;
esac
rm -rf "${PI_GEN}/stage-border-gate"
cp -a stage-border-gate "${PI_GEN}/"
rm -f "${PI_GEN}"/stage-border-gate/00-install-package/files/border-gate_*.deb
install -m 644 "${DEB}" "${PI_GEN}/stage-border-gate/00-install-package/files/"
[ -f "${PI_GEN}/config" ] || install -m 644 config.example "${PI_GEN}/config"
# stage2 exports Raspberry Pi OS Lite by itself; only ours should make an image.
touch "${PI_GEN}/stage2/SKIP_IMAGES"
echo "ready: cd ${PI_GEN} && sudo ./build.sh   (or ./build-docker.sh)"
