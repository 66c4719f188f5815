"""Alert-list store and command processing: what an update and a query cost on this machine.

    .venv/bin/python -m bench alerts [--documents N] [--persons N] [--commands N]

Prints: full replace of a document list (s, entries/s), a 1,000 + 1,000 delta on it, cold reopen,
document and person queries (µs each, p50 and p99), and signed commands handled per second with the
journal on disk (WAL, synchronous=FULL). Targets: queries well under 1 ms (a traveller waits on
them); replacing 200,000 entries in under 10 s; at least 100 signed commands/s.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.alerts.store import AlertStore
from firmware_app.bmis.commands.journal import CommandJournal
from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
from firmware_app.bmis.commands.signing import TrustStore, sign_command

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SURNAMES = ["MÜLLER", "SMITH", "NUÑEZ", "ERIKSSON", "ØSTERGÅRD", "ЩЕРБАК", "GARCIA", "NGUYEN", "KOWALSKI"]


def clock():
    return NOW


def _documents(count: int, rng: random.Random) -> list[dict]:
    return [{"id": f"E{i}", "issuing_state": rng.choice(["UTO", "D", "FRA", "NLD"]),
             "number": f"{rng.randrange(36**9):09X}", "category": "stolen"} for i in range(count)]


def _persons(count: int, rng: random.Random) -> list[dict]:
    people = []
    for i in range(count):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(30000))
        people.append({"id": f"P{i}", "primary": f"{rng.choice(SURNAMES)}{i % 97}",
                       "secondary": "ANNA", "birth_date": born.isoformat()})
    return people


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _query_us(query, samples: list) -> tuple[float, float]:
    times = []
    for sample in samples:
        start = time.perf_counter_ns()
        query(*sample)
        times.append((time.perf_counter_ns() - start) / 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def bench_store(directory: Path, n_docs: int, n_persons: int, rng: random.Random) -> None:
    store = AlertStore.open(directory / "alerts.db", clock)
    docs = _documents(n_docs, rng)
    seconds = _timed(lambda: store.replace("sltd", "document", 1, docs))
    print(f"replace {n_docs} documents: {seconds:.2f} s ({n_docs / seconds:,.0f} entries/s)")
    adds = _documents(1000, random.Random(7))
    for entry in adds:
        entry["id"] = "N" + entry["id"]
    seconds = _timed(lambda: store.apply_delta("sltd", 1, 2, add=adds, remove=[f"E{i}" for i in range(1000)]))
    print(f"delta +1000/-1000 on {n_docs}: {seconds:.2f} s (copy, patch, swap, reload)")
    people = _persons(n_persons, rng)
    seconds = _timed(lambda: store.replace("watch", "person", 1, people))
    print(f"replace {n_persons} persons: {seconds:.2f} s")
    store.close()
    bench_queries(directory, docs, n_persons)


def bench_queries(directory: Path, docs: list[dict], n_persons: int) -> None:
    reopened = {}
    seconds = _timed(lambda: reopened.setdefault("s", AlertStore.open(directory / "alerts.db", clock)))
    print(f"cold open + index of both lists: {seconds:.2f} s")
    store = reopened["s"]
    hits = [(d["issuing_state"], d["number"]) for d in docs[2000:2500]]
    misses = [("UTO", f"MISS{i}") for i in range(500)]
    p50, p99 = _query_us(store.check_document, hits + misses)
    print(f"check_document: p50 {p50:.1f} µs, p99 {p99:.1f} µs")
    queries = [("MULLER1", "ANNA", "700101"), ("SMITH5", "ANNA", "8501<<"), ("NUNEZ2", "ANNA", "62<<<<")]
    p50, p99 = _query_us(store.check_person, queries * 100)
    print(f"check_person ({n_persons} listed; full, unknown-day and year-only dates): "
          f"p50 {p50:.1f} µs, p99 {p99:.1f} µs")
    store.close()


def bench_commands(directory: Path, count: int) -> None:
    key = Ed25519PrivateKey.generate()
    journal = CommandJournal.open(directory / "commands.db")
    processor = CommandProcessor(CommandSettings("gates", "gate-01"), trust=TrustStore.of(key.public_key()),
                                 journal=journal, alerts=None, lane=_NullLane(), clock=clock)
    topic = "gates/v1/gate-01/cmd/set-mode"
    payloads = [json.dumps(sign_command(key, topic, {
        "command_id": f"c{i}", "issued_at": "2026-11-26T11:59:00Z", "expires_at": "2026-11-26T12:09:00Z",
        "operator_id": "ops", "params": {"mode": "normal"}})).encode() for i in range(count)]
    start = time.perf_counter()
    acks = sum(processor.handle(topic, p)["status"] == "ack" for p in payloads)
    seconds = time.perf_counter() - start
    print(f"signed set-mode commands: {count / seconds:,.0f}/s ({acks}/{count} acked; verify, "
          "replay guard and audit on disk)")
    journal.close()


class _NullLane:
    def set_mode(self, mode, operator_id):
        pass

    def override_door(self, action, door, operator_id):
        pass

    def request_status(self):
        return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench alerts")
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--commands", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench_store(Path(tmp), args.documents, args.persons, random.Random(1))
        bench_commands(Path(tmp), args.commands)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
