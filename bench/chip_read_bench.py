"""Chip read figures: APDUs, bytes and modelled air time of a full read (EF.COM, EF.SOD, DG1, DG2
of ~15-20 KB, DG14, DG15 with CA and AA), with and without extended length, against the block-count
targets; then the wall time of a full PACE read through real pcscd + vpcd + the virtual chip.

    .venv/bin/python -m bench chip_read [--runs N] [--latency-ms MS] [--no-pcscd]
"""
from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_app.emrtd.keys import mrz_key_from_lines  # noqa: E402
from firmware_app.emrtd.pace.info import PaceInfo  # noqa: E402
from firmware_app.emrtd.reader import DocumentReader  # noqa: E402
from firmware_app.emrtd.session import Session  # noqa: E402
from simulator.passport_factory import AaKind, PassportSpec, build_passport, build_pki  # noqa: E402
from simulator.test_pki import utc  # noqa: E402
from simulator.vchip.applet import VirtualIcaoChip  # noqa: E402
from simulator.vchip.from_passport import chip_config  # noqa: E402
from simulator.vchip.transport import InProcessTransceiver  # noqa: E402

NOW = utc(2026, 6, 1)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
PACE = [PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)]
AIR_BITRATE = 424_000
SHORT_BLOCK = 223


def _rng(label: str):
    import hashlib
    counter = [0]

    def rng(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(f"{label}/{counter[0]}".encode()).digest()
            counter[0] += 1
        return out[:size]
    return rng


def _portrait(target: int = 17_000) -> bytes:
    from PIL import Image
    for quality in range(90, 10, -5):
        out = io.BytesIO()
        Image.effect_noise((240, 320), 30).convert("RGB").save(out, "JPEG", quality=quality)
        if len(out.getvalue()) <= target:
            return out.getvalue()
    return out.getvalue()


def _passport():
    return build_passport(PassportSpec(TD3, _portrait(), aa=AaKind.RSA), build_pki("bench", NOW), NOW)


def _read(transceiver, extended_hint):
    reader = DocumentReader(Session(transceiver), mrz_key_from_lines(list(TD3)), _rng("terminal"),
                            time.monotonic, extended_hint=extended_hint)
    return reader.read()


def _read_counts(result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in result.log.entries:
        if entry.protected and entry.step.startswith("read ") and "(" not in entry.step.replace("(B1)", ""):
            name = entry.step[5:].replace(" (B1)", "")
            counts[name] = counts.get(name, 0) + 1
    return counts


def _target(size: int, extended: bool) -> int:
    return 2 if extended else math.ceil(size / SHORT_BLOCK) + 1


def _modelled(passport, pace, extended: bool, latency_ms: float) -> None:
    chip = VirtualIcaoChip(chip_config(passport, pace=pace, extended_length=extended), _rng("chip"))
    result = _read(InProcessTransceiver(chip), extended)
    total = result.log.bytes_sent + result.log.bytes_received
    air_ms = total * 8 / AIR_BITRATE * 1000
    model_ms = air_ms + result.log.count * latency_ms
    label = f"{result.access.protocol.value:4} {'extended' if extended else 'short   '}"
    print(f"{label}  APDUs {result.log.count:4}  bytes {total:6}  physical minimum {air_ms:6.1f} ms  "
          f"modelled {model_ms:6.1f} ms (424 kbit/s + {latency_ms} ms/APDU)  CA {result.chip_auth.passed} "
          f"AA {result.active_auth.passed}")
    counts = _read_counts(result)
    for file, content in result.files.items():
        reads, target = counts.get(file.value, 0), _target(len(content), extended)
        flag = "ok" if reads <= target else "OVER TARGET"
        print(f"    {file.value:7} {len(content):6} B  READ BINARY {reads:3} (target <= {target:3}) {flag}")


def _pcscd_wall(passport, runs: int) -> None:
    from drivers.smartcard import open_transceiver
    from simulator.vchip.pcscd import READER_URL, PcscdProcess, PcscdUnavailable, insert_card, remove_card
    with tempfile.TemporaryDirectory() as workdir:
        try:
            pcscd = PcscdProcess(Path(workdir)).start()
        except PcscdUnavailable as exc:
            print(f"pcscd run skipped: {exc}")
            return
        try:
            for extended in (True, False):
                times = []
                for _ in range(runs):
                    chip = VirtualIcaoChip(chip_config(passport, pace=PACE, extended_length=extended), _rng("chip"))
                    card = insert_card(chip, pcscd.port, extended)
                    transceiver = open_transceiver(READER_URL)
                    start = time.perf_counter()
                    result = _read(transceiver, transceiver.extended_length)
                    times.append((time.perf_counter() - start) * 1000)
                    transceiver.close()
                    remove_card(card)
                print(f"pcscd PACE {'extended' if extended else 'short   '}  full read wall median "
                      f"{statistics.median(times):6.1f} ms  min {min(times):6.1f} ms  ({runs} runs, "
                      f"{result.log.count} APDUs, target < 300 ms)")
        finally:
            pcscd.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench chip_read")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=5.0, help="per-APDU turnaround in the model")
    parser.add_argument("--no-pcscd", action="store_true")
    args = parser.parse_args(argv)
    passport = _passport()
    for pace, extended in ((None, False), (PACE, False), (PACE, True)):
        _modelled(passport, pace, extended, args.latency_ms)
    if not args.no_pcscd:
        _pcscd_wall(passport, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
