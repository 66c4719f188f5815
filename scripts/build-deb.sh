#!/usr/bin/env bash
# Builds dist/border-gate_<version>_<arch>.deb (`make package`). Offline on the device: the
# package carries a wheelhouse (every runtime wheel, pinned by requirements.lock) and installs
# them with pip --require-hashes in its postinst. gzip -1: most bytes are already-compressed
# wheels and models, and xz took minutes on 2 cores for no gain worth it.
#   ARCH=amd64 (default: this machine). ARCH=arm64 needs arm64 wheels: build on an arm64 machine
#   (a Pi or an arm64 CI runner; pyscard has no wheel and is compiled), or pass WHEELHOUSE=DIR
#   holding the cp311 aarch64 wheels made there.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${ARCH:-$(dpkg --print-architecture)}
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
OUT=${OUT:-dist}
WORK=build/deb-$ARCH
ROOT=$WORK/root
WHEELHOUSE=${WHEELHOUSE:-build/wheelhouse-$ARCH}

build_wheels() {  # runtime closure only, each at the version requirements.lock pins
    if [ "$ARCH" != "$(dpkg --print-architecture)" ] && [ ! -d "$WHEELHOUSE" ]; then
        echo "build-deb: no $ARCH wheelhouse; build it on $ARCH (see the header)" >&2; exit 2
    fi
    mkdir -p "$WHEELHOUSE"
    rm -f "$WHEELHOUSE"/border_gate-*.whl
    "$PY" -m pip wheel -q --no-deps . -w "$WHEELHOUSE"
    "$PY" -m pip wheel -q -r requirements.lock -w "$WHEELHOUSE"
}

hashes_file() {  # one "name==version --hash=sha256:..." line per bundled wheel
    for whl in "$ROOT"/opt/border-gate/wheelhouse/*.whl; do
        local base name version
        base=$(basename "$whl")
        name=$(echo "$base" | cut -d- -f1)
        version=$(echo "$base" | cut -d- -f2)
        echo "$name==$version --hash=sha256:$(sha256sum "$whl" | cut -d' ' -f1)"
    done
}

lay_out_app() {
    local app=$ROOT/opt/border-gate
    install -d -m 0755 "$app/wheelhouse" "$app/models"
    # Only what the lock names (plus the app): a stale wheel in the cache never ships.
    while read -r pin; do
        local name=${pin%%==*} version=${pin##*==}
        local norm=$(echo "$name" | tr '.-' '__')
        ls "$WHEELHOUSE"/* | grep -i "/${norm}-${version}-" | head -1 | xargs -I{} install -m 0644 {} "$app/wheelhouse/"
    done < <(grep -v '^#' requirements.lock | grep .)
    install -m 0644 "$WHEELHOUSE"/border_gate-"$VERSION"-*.whl "$app/wheelhouse/"
    install -m 0644 requirements.lock "$app/"
    hashes_file > "$app/requirements.hashes"
    models "$app/models"
}

models() {  # the runtime model files, checked against the manifest before they ship
    "$PY" - "$1" <<'PY'
import hashlib, json, shutil, sys
from pathlib import Path
dest = Path(sys.argv[1]); manifest = json.loads(Path("models/manifest.json").read_text())
lines = []
for entry in manifest["models"].values():
    for item in (entry, entry.get("runtime")):
        if not item:
            continue
        src = Path("models") / item["file"]
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        if digest != item["sha256"]:
            sys.exit(f"build-deb: {src} does not match its manifest hash")
        shutil.copyfile(src, dest / item["file"]); (dest / item["file"]).chmod(0o644)
        lines.append(f"{digest}  {item['file']}\n")
shutil.copyfile("models/manifest.json", dest / "manifest.json")
(dest / "SHA256SUMS").write_text("".join(lines))
PY
}

lay_out_system() {
    install -d -m 0755 "$ROOT/lib/systemd/system" "$ROOT/lib/udev/rules.d" \
        "$ROOT/usr/share/polkit-1/rules.d" "$ROOT/usr/share/doc/border-gate"
    install -d -m 0750 "$ROOT/etc/border-gate"
    install -m 0644 systemd/*.service systemd/*.timer systemd/*.path "$ROOT/lib/systemd/system/"
    install -m 0644 config/udev/*.rules packaging/udev/*.rules "$ROOT/lib/udev/rules.d/"
    install -m 0644 packaging/polkit/*.rules "$ROOT/usr/share/polkit-1/rules.d/"
    install -m 0644 README.md "$ROOT/usr/share/doc/border-gate/"
    # The shipped config: every device simulated, paths moved to the installed layout (the CSCA
    # store is state: a signed pki-update writes into it).
    sed -e 's|^data_dir = .*|data_dir = "/var/lib/border-gate"|' \
        -e 's|^models_dir = .*|models_dir = "/opt/border-gate/models"|' \
        -e 's|^csca_dir = "[^"]*"|csca_dir = "/var/lib/border-gate/csca"|' \
        -e 's|^command_keys_dir = .*|command_keys_dir = "/etc/border-gate/bmis-keys"|' \
        config/default.toml > "$ROOT/etc/border-gate/gate.toml"
    chmod 0640 "$ROOT/etc/border-gate/gate.toml"
}

control() {
    install -d -m 0755 "$ROOT/DEBIAN"
    local size
    size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
    sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
        packaging/debian/control.in > "$ROOT/DEBIAN/control"
    install -m 0644 packaging/debian/conffiles "$ROOT/DEBIAN/"
    install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$ROOT/DEBIAN/"
}

rm -rf "$WORK" && mkdir -p "$ROOT" "$OUT"
build_wheels
lay_out_app
lay_out_system
control
dpkg-deb --root-owner-group -Zgzip -z1 --build "$ROOT" "$OUT/border-gate_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/border-gate_${VERSION}_${ARCH}.deb"
