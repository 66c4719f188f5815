"""PACE figures per variant: one whole PACE run (terminal and in-process virtual chip, both in
Python) and its APDU count, short APDUs only (2048-bit DH is chained), plus PACE-CAM's check of the
chip data against EF.CardSecurity. Medians over N runs on this machine.

    .venv/bin/python -m bench pace [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_app.emrtd.chip_auth.card_security import check_cam  # noqa: E402
from firmware_app.emrtd.keys import mrz_key_from_lines  # noqa: E402
from firmware_app.emrtd.pace.info import PaceInfo  # noqa: E402
from firmware_app.emrtd.pace.protocol import perform_pace  # noqa: E402
from firmware_app.emrtd.session import Session  # noqa: E402
from simulator.passport_factory import AaKind, PassportSpec, build_passport, build_pki  # noqa: E402
from simulator.test_pki import utc  # noqa: E402
from simulator.vchip.applet import VirtualIcaoChip  # noqa: E402
from simulator.vchip.from_passport import chip_config  # noqa: E402
from simulator.vchip.transport import InProcessTransceiver  # noqa: E402

NOW = utc(2026, 6, 1)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
VARIANTS = {
    "GM  ECDH brainpoolP256r1": PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13),
    "IM  ECDH brainpoolP256r1": PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13),
    "CAM ECDH brainpoolP256r1": PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),
    "GM  DH 1024/160": PaceInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 0),
    "IM  DH 1024/160": PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 0),
    "GM  DH 2048/256 chained": PaceInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 2),
    "IM  DH 2048/256 chained": PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 2),
}


def _portrait() -> bytes:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.effect_noise((240, 320), 40).convert("RGB").save(out, "JPEG", quality=60)
    return out.getvalue()


def bench_variant(label: str, info: PaceInfo, runs: int) -> None:
    spec = PassportSpec(TD3, _portrait(), aa=AaKind.NONE, pace=(info,), seed="bench")
    document = build_passport(spec, build_pki("bench", NOW), NOW)
    chip = VirtualIcaoChip(chip_config(document), os.urandom)
    key = mrz_key_from_lines(list(TD3))
    samples, apdus, result = [], 0, None
    for _ in range(runs):
        chip.reset()
        session = Session(InProcessTransceiver(chip))
        start = time.perf_counter()
        result = perform_pace(session, key, info, os.urandom, extended=False)
        samples.append((time.perf_counter() - start) * 1000)
        apdus = session.log.count
    print(f"PACE {label:26s} {statistics.median(samples):8.1f} ms  {apdus} APDUs")
    if result is not None and result.cam is not None:
        cam, data = result.cam, document.card_security
        assert check_cam(cam, data).passed
        start = time.perf_counter()
        for _ in range(runs):
            check_cam(cam, data)
        per_check = (time.perf_counter() - start) * 1000 / runs
        print(f"CAM check vs EF.CardSecurity ({len(data)} B, signature incl.)  {per_check:8.1f} ms")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench pace")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    for label, info in VARIANTS.items():
        bench_variant(label, info, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
