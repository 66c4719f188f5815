"""Passport reader figures: decoder cost per document, and latency from the last byte written on
a pty (simulated reader) to the DocumentRead event, plus reconnect time after a replug.

    .venv/bin/python -m bench reader [--docs N]
"""
from __future__ import annotations

import argparse
import queue
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.passport_reader import (  # noqa: E402
    DocumentRead,
    Framing,
    LinkChanged,
    LinkState,
    ReaderSettings,
    SerialPassportReader,
    encode,
)
from drivers.passport_reader.framing import decoder_for  # noqa: E402
from simulator.reader import SimulatedReader  # noqa: E402

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def decode_cost_us(framing: Framing, chunk: int, rounds: int = 2000) -> float:
    frame = encode(framing, TD3)
    pieces = [frame[i:i + chunk] for i in range(0, len(frame), chunk)]
    decoder = decoder_for(ReaderSettings(url="loop://", framing=framing))
    start = time.perf_counter()
    for _ in range(rounds):
        for piece in pieces:
            decoder.feed(piece, 0.0)
    return (time.perf_counter() - start) / rounds * 1e6


def pty_latency_ms(framing: Framing, docs: int, workdir: Path) -> list[float]:
    events: queue.SimpleQueue = queue.SimpleQueue()
    stamp = lambda event: events.put((time.perf_counter(), event))  # noqa: E731
    with SimulatedReader(framing, random.Random(0), link_path=workdir / framing.value) as sim:
        settings = ReaderSettings(url=sim.path, framing=framing)
        with SerialPassportReader(settings, stamp):
            _wait_for(events, lambda e: e == LinkChanged(LinkState.UP))
            latencies = []
            for _ in range(docs):
                sent = time.perf_counter()
                sim.write_raw(encode(framing, TD3))
                arrived = _wait_for(events, lambda e: isinstance(e, DocumentRead))
                latencies.append((arrived - sent) * 1e3)
            return latencies


def replug_ms(workdir: Path) -> float:
    events: queue.SimpleQueue = queue.SimpleQueue()
    stamp = lambda event: events.put((time.perf_counter(), event))  # noqa: E731
    with (SimulatedReader(Framing.CUTE, random.Random(0), link_path=workdir / "replug") as sim,
          SerialPassportReader(ReaderSettings(url=sim.path), stamp)):
        _wait_for(events, lambda e: e == LinkChanged(LinkState.UP))
        sim.unplug()
        _wait_for(events, lambda e: isinstance(e, LinkChanged) and e.state is LinkState.DOWN)
        replugged = time.perf_counter()
        sim.replug()
        up = _wait_for(events, lambda e: e == LinkChanged(LinkState.UP))
        return (up - replugged) * 1e3


def _wait_for(events: queue.SimpleQueue, match, timeout_s: float = 5.0) -> float:
    while True:
        at, event = events.get(timeout=timeout_s)
        if match(event):
            return at


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench reader")
    parser.add_argument("--docs", type=int, default=50)
    args = parser.parse_args(argv)
    for framing in Framing:
        whole, bytewise = decode_cost_us(framing, 1000), decode_cost_us(framing, 1)
        print(f"decode {framing.value:5}: {whole:6.1f} us/doc whole frame, {bytewise:6.1f} us/doc byte by byte")
    with tempfile.TemporaryDirectory() as tmp:
        for framing in (Framing.CUTE, Framing.RTE):
            lat = sorted(pty_latency_ms(framing, args.docs, Path(tmp)))
            p95 = lat[int(0.95 * (len(lat) - 1))]
            print(f"pty {framing.value:5} write->DocumentRead: median {statistics.median(lat):.2f} ms,"
                  f" p95 {p95:.2f} ms, max {lat[-1]:.2f} ms over {len(lat)} docs")
        print(f"replug -> link up: {replug_ms(Path(tmp)):.0f} ms (reconnect_min_s=0.2 default backoff)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
