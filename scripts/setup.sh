#!/usr/bin/env bash
# Idempotent set-up on Debian 12: Debian packages, .venv, the project with dev extras, models.
# A second run checks and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  python3-venv python3-dev gcc swig pkg-config make
  libpcsclite-dev pcscd pcsc-tools vsmartcard-vpcd
  mosquitto mosquitto-clients openssl
  chromium chromium-driver fonts-wqy-microhei
  postgresql
  systemd  # systemd-analyze: the units' security score and verify (tests/test_systemd_units.py)
  systemd-journal-remote  # writes real journal files for the support bundle test (tests/test_support_bundle.py)
  nodejs espeak-ng
)
PYTHON=${PYTHON:-python3}
STAMPS=.setup-stamps
mkdir -p "$STAMPS"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # policy-rc.d may refuse to start services in containers; the tests start their own daemons.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi

want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$STAMPS/pip" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the project with dev and sim extras"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,sim]'
  echo "$want" > "$STAMPS/pip"
fi

# PAD_UPSTREAM_DIR: the MiniFASNet .pth files for an offline image build (models/fetch.py --from)
.venv/bin/python models/fetch.py ${PAD_UPSTREAM_DIR:+--from "$PAD_UPSTREAM_DIR"}

# axe-core (npm registry) for the kiosk page's accessibility checks in the browser tests; it stays
# in the git-ignored .tools/ and is never served by the appliance.
AXE_VERSION=4.14.1
if ! command -v npm >/dev/null; then   # Debian ships npm apart from nodejs (other nodejs builds bundle it)
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi
if [ "$(node -p "require('./.tools/node_modules/axe-core/package.json').version" 2>/dev/null)" != "$AXE_VERSION" ]; then
  echo "setup: installing axe-core $AXE_VERSION into .tools/"
  npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION"
fi

# Spoken kiosk prompts (espeak-ng) into the gate config's [kiosk] audio_dir: scripts/kiosk-audio.sh says how.
bash scripts/kiosk-audio.sh
