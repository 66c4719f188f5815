"""The document presence probe against a real pcscd + vpcd: how long one poll takes, idle and while
chip reads run back to back on the same reader (what the probe's deadline,
firmware_app/appliance/bounded_probe.py, must stay far above), and with pcscd hung
(SIGSTOP) how long the appliance's PresenceWatch takes to report the chip-reader fault, and to
restore it once pcscd is resumed (SIGCONT).

    flock /tmp/pcscd.lock .venv/bin/python -m bench presence_probe [--polls 500] [--hangs 3]
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from drivers.smartcard import open_transceiver  # noqa: E402
from drivers.smartcard.events import card_present  # noqa: E402
from firmware_app.appliance.bounded_probe import PROBE_DEADLINE_S  # noqa: E402
from firmware_app.appliance.devices import PresenceWatch  # noqa: E402
from firmware_app.emrtd.reader import read_document  # noqa: E402
from firmware_app.lane import events as ev  # noqa: E402
from simulator.vchip.pcscd import READER_URL, PcscdProcess, insert_card  # noqa: E402
from tests.chip_fixtures import make_chip, mrz_key  # noqa: E402

PATTERN = READER_URL.removeprefix("pcsc://")


def _poll_times_ms(polls: int) -> list[float]:
    times = []
    for _ in range(polls):
        started = time.perf_counter()
        card_present(PATTERN)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def _poll_times_while_reading_ms(polls: int) -> tuple[list[float], int]:
    """Polls 10 ms apart while another thread reads the chip (BAC, every file) again and again."""
    stop, reads = threading.Event(), [0]

    def read_again_and_again() -> None:
        while not stop.is_set():
            read_document(open_transceiver(READER_URL, timeout_s=2.0), mrz_key(), os.urandom, time.monotonic)
            reads[0] += 1
    reader = threading.Thread(target=read_again_and_again, daemon=True)
    reader.start()
    try:
        times = []
        for _ in range(polls):
            times.append(_poll_times_ms(1)[0])
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(30)
    return sorted(times), reads[0]


def _print_polls(label: str, times: list[float]) -> None:
    print(f"poll ({label}, {len(times)}): median {times[len(times) // 2]:.2f} ms, "
          f"p99 {times[int(len(times) * 0.99)]:.2f} ms, max {times[-1]:.2f} ms")


def _hang_once(pcscd: PcscdProcess) -> tuple[float, float]:
    """Seconds from SIGSTOP to the fault, and from SIGCONT to the restore."""
    seen: list[tuple[float, object]] = []
    changed = threading.Condition()

    def submit(event: object) -> None:
        with changed:
            seen.append((time.monotonic(), event))
            changed.notify_all()
    watch = PresenceWatch(lambda: card_present(PATTERN), submit).start()      # the appliance's defaults
    assert pcscd.process is not None
    try:
        time.sleep(0.5)
        stopped_at = time.monotonic()
        os.kill(pcscd.process.pid, signal.SIGSTOP)
        try:
            with changed:
                changed.wait_for(lambda: any(isinstance(e, ev.DeviceFault) for _, e in seen), 30)
        finally:
            os.kill(pcscd.process.pid, signal.SIGCONT)
        resumed_at = time.monotonic()
        with changed:
            changed.wait_for(lambda: any(isinstance(e, ev.DeviceRestored) for _, e in seen), 30)
    finally:
        watch.stop()
    fault = next(t for t, e in seen if isinstance(e, ev.DeviceFault))
    restored = next(t for t, e in seen if isinstance(e, ev.DeviceRestored))
    return fault - stopped_at, restored - resumed_at


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench presence_probe")
    parser.add_argument("--polls", type=int, default=500)
    parser.add_argument("--hangs", type=int, default=3)
    args = parser.parse_args(argv)
    pcscd = PcscdProcess(Path(tempfile.mkdtemp(prefix="presence-probe-"))).start()
    try:
        _print_polls("empty reader", _poll_times_ms(args.polls))
        card = insert_card(make_chip(dg2_size=15000), pcscd.port)
        _print_polls("card present", _poll_times_ms(args.polls))
        times, reads = _poll_times_while_reading_ms(args.polls)
        _print_polls(f"during {reads} chip reads", times)
        print(f"probe deadline {PROBE_DEADLINE_S:g} s; PresenceWatch every 0.2 s, fault after 3 failed polls")
        for run in range(args.hangs):
            to_fault, to_restore = _hang_once(pcscd)
            print(f"pcscd hung (run {run + 1}): fault after {to_fault:.2f} s; restored {to_restore:.2f} s after resume")
        card.remove()
    finally:
        pcscd.stop()
    return 0
