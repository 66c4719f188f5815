"""Hostile chips against the lane's chip stage, side by side with a genuine one, through real pcscd:
the whole chip path as the appliance runs it (read with its budgets, passive authentication, the
portrait decoded in the worker). Each hostile case must end, refused, within 3x the genuine read.

    .venv/bin/python -m bench chip_hostile [--runs N]

Cases (simulator/hostile.py): a DG14 with a 65 KB DH subgroup order, a chip answering 1 byte per
READ BINARY, a progressive-JPEG scan bomb as the portrait (both hostile files signed by the trusted
Document Signer: the worst case). Then what the portrait decode worker costs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_app.emrtd.pa import TrustStore  # noqa: E402
from firmware_app.face.untrusted import UntrustedImageDecoder  # noqa: E402
from firmware_app.lane.stages import ChipReadStage, PortraitVault  # noqa: E402
from firmware_app.mrz import parse  # noqa: E402
from simulator.hostile import HostileCase, hostile_chip  # noqa: E402
from simulator.passport_factory import AaKind, PassportSpec, build_passport, build_pki, chip_portrait  # noqa: E402
from simulator.test_pki import utc  # noqa: E402

NOW = utc(2026, 6, 1)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TARGET_RATIO = 3.0


def _portrait() -> bytes:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.effect_noise((480, 640), 40).convert("RGB").save(out, "JPEG", quality=90)
    return chip_portrait(out.getvalue())


def _stage(pki, decoder) -> ChipReadStage:
    from drivers.smartcard import open_transceiver
    from simulator.vchip.pcscd import READER_URL
    store = TrustStore()
    store.add_certificate(pki.csca.certificate)
    return ChipReadStage(lambda: open_transceiver(READER_URL), store, os.urandom, time.monotonic,
                         lambda: NOW, PortraitVault(), decoder=decoder)


def _one_run(case: HostileCase, passport, pki, port: int, decoder) -> tuple[float, str]:
    from simulator.vchip.pcscd import insert_card, remove_card
    card = insert_card(hostile_chip(case, passport, pki, NOW, os.urandom), port)
    stage = _stage(pki, decoder)
    try:
        start = time.perf_counter()
        try:
            evidence = stage("bench", parse(TD3, today=NOW.date()), threading.Event())
            outcome = _outcome(evidence, stage.vault)
        except Exception as exc:  # a refused read is an outcome here, named by its type
            outcome = f"refused: {type(exc).__name__}"
        return (time.perf_counter() - start) * 1000, outcome
    finally:
        remove_card(card)


def _outcome(evidence, vault) -> str:
    portrait = "portrait kept" if len(vault) else "no portrait"
    return (f"read; PA {'passed' if evidence.passive.passed else 'failed'}; CA {evidence.chip_auth.reason.value}; "
            f"AA {evidence.active_auth.reason.value}; {portrait}")


def _run_all(runs: int, port: int) -> int:
    pki = build_pki("bench-hostile", NOW)
    passport = build_passport(PassportSpec(TD3, _portrait(), aa=AaKind.RSA), pki, NOW)
    decoder = UntrustedImageDecoder()
    decoder.warm_up()
    results = {}
    try:
        for _ in range(runs):   # interleaved, so every case sees the same machine load
            for case in HostileCase:
                elapsed, outcome = _one_run(case, passport, pki, port, decoder)
                results.setdefault(case, ([], outcome))[0].append(elapsed)
    finally:
        decoder.close()
    return _report(results, runs)


def _report(results: dict, runs: int) -> int:
    genuine = statistics.median(results[HostileCase.GENUINE][0])
    worst = 0.0
    for case, (times, outcome) in results.items():
        median = statistics.median(times)
        ratio = median / genuine
        worst = max(worst, ratio if case is not HostileCase.GENUINE else 0.0)
        print(f"{case.value:15} median {median:7.1f} ms  max {max(times):7.1f} ms  "
              f"x{ratio:4.2f} of genuine  ({runs} runs)  {outcome}")
    verdict = "ok" if worst <= TARGET_RATIO else "OVER TARGET"
    print(f"worst hostile/genuine ratio x{worst:.2f} (target <= x{TARGET_RATIO:.0f}) {verdict}")
    return 0


def _decoder_figures(runs: int) -> None:
    """What decoding in the worker costs: its start, and each portrait against an in-process decode."""
    from firmware_app.face.portrait_decode import decode_portrait_bgr
    from firmware_app.face.untrusted import ImageKind
    portrait = _portrait()
    decoder = UntrustedImageDecoder()
    try:
        start = time.perf_counter()
        decoder.decode(portrait, ImageKind.PORTRAIT)
        cold = (time.perf_counter() - start) * 1000
        worker = _median_ms(lambda: decoder.decode(portrait, ImageKind.PORTRAIT), runs * 4)
    finally:
        decoder.close()
    local = _median_ms(lambda: decode_portrait_bgr(portrait), runs * 4)
    print(f"portrait decode: worker start + first image {cold:6.1f} ms; then {worker:5.2f} ms per image "
          f"in the worker vs {local:5.2f} ms in process (overhead {worker - local:5.2f} ms)")


def _median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    from simulator.vchip.pcscd import PcscdProcess, PcscdUnavailable
    parser = argparse.ArgumentParser(prog="bench chip_hostile")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        try:
            pcscd = PcscdProcess(Path(workdir)).start()
        except PcscdUnavailable as exc:
            print(f"chip_hostile skipped: {exc}")
            return 0
        try:
            status = _run_all(args.runs, pcscd.port)
        finally:
            pcscd.stop()
    _decoder_figures(args.runs)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
