"""Loads the ICAO worked examples (../shared/data/vectors) and helpers for replaying them."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def load_vectors(shared_data: Path) -> dict:
    return json.loads((shared_data / "vectors" / "emrtd_worked_examples.json").read_text())


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def fixed_rng(*chunks: bytes) -> Callable[[int], bytes]:
    """An rng that hands out the given chunks in order and checks the requested sizes."""
    queue = list(chunks)

    def rng(size: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == size, f"rng asked for {size} bytes, vector chunk has {len(chunk)}"
        return chunk
    return rng


def load_pace_variants(shared_data: Path) -> dict:
    """ICAO 9303-11 G.2 (GM DH), H.1 (IM ECDH), H.2 (IM DH), I.1 (CAM ECDH)."""
    return json.loads((shared_data / "vectors" / "emrtd_pace_variants.json").read_text())
