"""Shared helpers for chip tests: a virtual passport and deterministic randomness."""
from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from firmware_app.emrtd.keys import MrzKey, mrz_key_from_lines
from firmware_app.emrtd.pace.info import PaceInfo
from simulator.vchip.applet import ChipConfig, ChipFaults, VirtualIcaoChip
from simulator.vchip.documents import encode_card_access, synthetic_lds

MRZ_LINES = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C<3UTO6908061F9406236ZE184226B<<<<<14"]
CAN = "123456"
PACE_BRAINPOOL_AES128 = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)


def seeded_rng(seed: int) -> Callable[[int], bytes]:
    """Pseudo-random bytes from Python's seeded generator: the same bytes on every run."""
    generator = random.Random(seed)
    return lambda n: bytes(generator.getrandbits(8) for _ in range(n))


def counter_rng(label: str) -> Callable[[int], bytes]:
    """Deterministic pseudo-random bytes (SHA-256 in counter mode) for reproducible tests."""
    state = {"n": 0}

    def rng(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(f"{label}/{state['n']}".encode()).digest()
            state["n"] += 1
        return out[:size]
    return rng


def mrz_key() -> MrzKey:
    return mrz_key_from_lines(MRZ_LINES)


def make_chip(pace: list[PaceInfo] | None = None, extended: bool = False, dg2_size: int = 15000,
              faults: ChipFaults | None = None, atr_info: bytes | None = None) -> VirtualIcaoChip:
    pace = pace or []
    config = ChipConfig(files=synthetic_lds("\n".join(MRZ_LINES), dg2_size), mrz=mrz_key(), can=CAN, pace=pace,
                        extended_length=extended, card_access=encode_card_access(pace) if pace else None,
                        atr_info=atr_info, faults=faults or ChipFaults())
    return VirtualIcaoChip(config, counter_rng("chip"))
