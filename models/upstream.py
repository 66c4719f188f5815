"""Models converted at setup from upstream files (MiniFASNet PyTorch weights -> ONNX).

An entry with an `upstream` member names the original file by name, size and sha256. It is
taken, in order, from `--from DIR`, the manifest's `pad.upstream_dirs` (relative to models/), or
its pinned URL. None of these being available is not a setup failure: PAD is then reported
unavailable, loudly, and the rest of the appliance is set up as usual.
"""
from __future__ import annotations

import hashlib
import sys
import urllib.error
import urllib.request
from pathlib import Path

DOWNLOAD_TIMEOUT_S = 30
MAX_UPSTREAM_BYTES = 16 << 20


class UpstreamMissing(Exception):
    """No source of the upstream file could be used."""


def upstream_entries(manifest: dict) -> dict[str, dict]:
    return {role: e for role, e in manifest["models"].items() if "upstream" in e}


def _verified(data: bytes, upstream: dict) -> bytes | None:
    return data if hashlib.sha256(data).hexdigest() == upstream["sha256"] else None


def _from_dirs(upstream: dict, dirs: list[Path]) -> bytes | None:
    for directory in dirs:
        candidate = directory / upstream["file"]
        if candidate.is_file() and candidate.stat().st_size <= MAX_UPSTREAM_BYTES:
            data = _verified(candidate.read_bytes(), upstream)
            if data is not None:
                return data
            print(f"fetch: {candidate} does not have the pinned sha256; ignored", file=sys.stderr)
    return None


def _from_url(url: str, upstream: dict) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data = response.read(MAX_UPSTREAM_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"fetch: could not download {upstream['file']}: {exc}", file=sys.stderr)
        return None
    return _verified(data, upstream) if len(data) <= MAX_UPSTREAM_BYTES else None


def find_upstream(upstream: dict, dirs: list[Path], url_base: str | None) -> bytes:
    data = _from_dirs(upstream, dirs)
    if data is None:
        url = upstream["url"] if url_base is None else url_base.rstrip("/") + "/" + upstream["file"]
        data = _from_url(url, upstream) if url else None
    if data is None:
        raise UpstreamMissing(upstream["file"])
    return data


def convert(entry: dict, upstream_bytes: bytes) -> bytes:
    """The ONNX file of one entry (its `derivation` names the converter)."""
    if entry["derivation"] != "minifasnet_from_torch":
        raise SystemExit(f"fetch: unknown derivation {entry['derivation']}")
    from minifasnet import build_model  # needs the onnx package: imported only to convert
    from torch_legacy import load_state_dict
    return build_model(load_state_dict(upstream_bytes), Path(entry["file"]).stem)


def search_dirs(manifest: dict, here: Path, from_dir: str | None) -> list[Path]:
    dirs = [Path(from_dir)] if from_dir else []
    return dirs + [(here / d).resolve() for d in manifest.get("pad", {}).get("upstream_dirs", [])]
