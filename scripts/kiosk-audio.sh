#!/usr/bin/env bash
# Spoken kiosk prompts in every language (espeak-ng, offline); set [kiosk] audio_dir to use them.
# Run by setup.sh from the repository root. Made from the config the gate runs, so they say what its
# screens show (a one-stop post's authorities word their own screens): GATE_CONFIG, else the
# installed /etc/border-gate/gate.toml, else config/default.toml; into the folder that config plays
# them from ([kiosk] audio_dir; unset: var/kiosk-audio), or KIOSK_AUDIO_DIR when set. Regenerated
# only when the texts change. A folder this user cannot write (/var/lib/... on an installed device)
# is written with sudo when it needs no password; otherwise setup says how and carries on.
set -euo pipefail

if [ -z "${GATE_CONFIG:-}" ]; then
  GATE_CONFIG=config/default.toml
  [ -r /etc/border-gate/gate.toml ] && GATE_CONFIG=/etc/border-gate/gate.toml
fi
if [ -z "${KIOSK_AUDIO_DIR:-}" ]; then
  KIOSK_AUDIO_DIR=$(.venv/bin/gatectl config show --config "$GATE_CONFIG" --json | .venv/bin/python -c \
    'import json, sys; print(json.load(sys.stdin)["kiosk"]["audio_dir"] or "var/kiosk-audio")')
fi
# Absolute, so the command reads the same under sudo and in the hint below.
audio=("$PWD/.venv/bin/gatectl" kiosk audio --config "$(realpath -m "$GATE_CONFIG")"
       --out "$(realpath -m "$KIOSK_AUDIO_DIR")")

# The folder, or the nearest existing one above it (where it would be made), is writable by us.
may_write() {
  local dir=$1
  while [ ! -e "$dir" ] && [ "$dir" != "$(dirname "$dir")" ]; do dir=$(dirname "$dir"); done
  [ -d "$dir" ] && [ -w "$dir" ]
}

if [ "$(id -u)" -eq 0 ] || may_write "$KIOSK_AUDIO_DIR"; then
  "${audio[@]}" >/dev/null
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  echo "setup: making the kiosk's spoken prompts in $KIOSK_AUDIO_DIR with sudo (not writable by $(id -un))"
  sudo -n "${audio[@]}" >/dev/null
else
  # Not fatal: the demo and the tests do without them, and a gate without them stays silent.
  { echo "setup: the kiosk's spoken prompts were NOT made: $KIOSK_AUDIO_DIR is not writable by $(id -un)" \
         "and sudo is missing or needs a password; make them with:"
    printf '    sudo'; printf ' %q' "${audio[@]}"; echo; } >&2
fi
