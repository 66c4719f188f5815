"""Field operations: what the update's copy of the SQLite files and a status query cost here.

    .venv/bin/python -m bench deploy [--records N] [--queries N]

Prints: the outbox size with N crossings waiting and the time to copy it (SQLite online backup, as
the updater does before every install; the disk needs that much room too), and `gatectl status`
round trips over the Unix socket (p50, p99, ms) with the snapshot read from that outbox. Target:
a status answer well under 100 ms (a technician's command, never the lane's time).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from firmware_app.bmis.contract import Identity, MessageKind
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.deploy import state
from firmware_app.status.client import query
from firmware_app.status.server import StatusServer
from firmware_app.status.snapshot import StatusSources, build_snapshot

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _crossing(n: int) -> dict:
    return {"transaction_id": f"tx-{n}", "device_id": "gate-b", "direction": "entry", "mode": "normal",
            "outcome": "referred", "started_at": "2026-12-06T09:00:00+00:00", "ended_at": "2026-12-06T09:00:08+00:00",
            "document": None, "access_protocol": None, "chip": None, "face": None,
            "decision": {"outcome": "refer", "reasons": ["face_mismatch"], "findings": [], "alert_hits": []},
            "alert_hit": False, "officer_id": None, "passage": None, "timings_ms": {"mrz": 100.0}, "exceptions": []}


def _outbox(data: Path, records: int) -> Outbox:
    box = Outbox(data / "bmis-outbox.db", Identity("gate-b", "post-b"), clock=lambda: NOW, id_source=uuid.uuid4,
                 validate=False)
    for n in range(records):
        box.add(MessageKind.CROSSING, _crossing(n))
    return box


def _copy(data: Path, work: Path) -> None:
    started = time.perf_counter()
    state.snapshot(data, work / "copy")
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in data.glob("*.db*"))
    print(f"copy before update: {size / 1e6:.1f} MB of SQLite files in {elapsed:.2f} s "
          f"({size / 1e6 / max(elapsed, 1e-9):.0f} MB/s)")


def _queries(box: Outbox, work: Path, count: int) -> None:
    sources = StatusSources("gate-b", lambda: "idle", lambda: "normal", box.counts, lambda: {"lane": {"status": "ok"}},
                            lambda: None, lambda: None, versions={"app": "bench"})
    server = StatusServer(work / "status.sock", lambda: build_snapshot(sources))
    server.start()
    try:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            query(server.path)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        server.stop()
    times.sort()
    print(f"status query: p50 {statistics.median(times):.2f} ms, p99 {times[int(len(times) * 0.99) - 1]:.2f} ms "
          f"over {count} queries")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench deploy")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        started = time.perf_counter()
        box = _outbox(data, args.records)
        print(f"outbox with {args.records} crossings waiting built in {time.perf_counter() - started:.1f} s")
        _copy(data, work)
        _queries(box, work, args.queries)
        box.close()
    return 0
