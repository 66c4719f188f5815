"""BMIS link: drain a backlog after an outage, and publish latency with the outbox in the path.

    .venv/bin/python -m bench bmis_drain [--backlog 10000] [--latency 500]

Real mosquitto (TLS, client certificate, ACL) on loopback, outbox with WAL + synchronous=FULL,
the reference BMIS consumer (`gatesim bmis listen`) in its own process on the other side. Prints:
  - backlog queueing rate (one durable commit per event, as the lane does),
  - drain rate: from link start (TLS connect included) until every event is acknowledged and
    committed as sent (target >= 2,000 events/s),
  - loss check: every msg_id at the consumer exactly once after de-duplication,
  - latency p50/p99 of add -> durable -> publish -> PUBACK -> committed as sent, one at a time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from firmware_app.bmis.contract import Identity  # noqa: E402
from firmware_app.bmis.link import BmisLink  # noqa: E402
from firmware_app.bmis.mqtt_client import MqttSettings  # noqa: E402
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits  # noqa: E402
from firmware_app.bmis.wiring import connection_factory  # noqa: E402
from simulator.bmis_broker import MosquittoBroker  # noqa: E402
from simulator.bmis_consumer import read_counts, read_messages  # noqa: E402
from simulator.bmis_pki import make_test_pki  # noqa: E402
from simulator.local_process import wait_until  # noqa: E402

DEVICE = "gate-bench"
TARGET_EVENTS_PER_S = 2000


def _event(n: int) -> dict:
    return {"kind": "bench", "severity": "info", "transaction_id": f"bench-{n}"}


def _device_settings(broker: MosquittoBroker) -> MqttSettings:
    pair = broker.pki.devices[DEVICE]
    return MqttSettings(host="127.0.0.1", port=broker.device_port, client_id=DEVICE, ca_file=broker.pki.ca,
                        cert_file=pair.cert, key_file=pair.key, reconnect_min_s=0.1, reconnect_max_s=1, max_inflight=50)


def _start_listener(broker: MosquittoBroker, db: Path) -> subprocess.Popen:
    """The reference BMIS consumer in its own process, as it would be (it does not share our GIL)."""
    ep = broker.endpoints
    code = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"
    listener = subprocess.Popen([sys.executable, "-c", code, "bmis", "listen", "--port", str(ep.bmis_port),
                                 "--ca", str(ep.ca_file), "--user", ep.bmis_user, "--password", ep.bmis_password,
                                 "--db", str(db), "--client-id", "bmis-bench", "--seconds", "3600"],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if listener.stdout.readline().strip() != "listening":
        listener.kill()
        raise SystemExit("the BMIS consumer did not connect")
    return listener


def _stop_listener(listener: subprocess.Popen) -> None:
    listener.send_signal(signal.SIGINT)
    try:
        listener.wait(timeout=20)
    except subprocess.TimeoutExpired:
        listener.kill()


class _SentWatch:
    def __init__(self):
        self.sent: set[str] = set()
        self.changed = threading.Condition()

    def __call__(self, msg_ids: list[str]) -> None:
        with self.changed:
            self.sent.update(msg_ids)
            self.changed.notify_all()

    def wait_for(self, msg_id: str, timeout_s: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: msg_id in self.sent, timeout_s)


def _drain(link: BmisLink, backlog: int) -> tuple[float, float, set[str]]:
    started = time.perf_counter()
    ids = {link.record_exception(_event(n)).msg_id for n in range(backlog)}
    queued_s = time.perf_counter() - started
    started = time.perf_counter()
    link.start()
    if not wait_until(lambda: link.outbox.counts().pending == 0, 300, poll_s=0.005):
        raise SystemExit(f"backlog not drained: {link.outbox.counts()}")
    return queued_s, time.perf_counter() - started, ids


def _latencies(link: BmisLink, watch: _SentWatch, count: int) -> tuple[list[float], set[str]]:
    samples, ids = [], set()
    for n in range(count):
        started = time.perf_counter()
        msg_id = link.record_exception(_event(10**6 + n)).msg_id
        if not watch.wait_for(msg_id):
            raise SystemExit(f"message {n} not acknowledged")
        samples.append((time.perf_counter() - started) * 1000)
        ids.add(msg_id)
    return samples, ids


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _measure(broker: MosquittoBroker, directory: Path, backlog: int, latency_count: int) -> dict:
    db, watch = directory / "bmis.db", _SentWatch()
    listener = _start_listener(broker, db)
    time.sleep(0.2)
    outbox = Outbox(directory / "outbox.db", Identity(DEVICE, "post-bench"),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4,
                    limits=OutboxLimits(max_messages=max(100_000, 2 * backlog)))
    link = BmisLink(outbox, connection_factory=connection_factory(_device_settings(broker)), window=50,
                    on_sent=watch)
    try:
        queued_s, drain_s, ids = _drain(link, backlog)
        samples, more = _latencies(link, watch, latency_count)
        ids |= more
        arrived = wait_until(lambda: read_counts(db).stored >= len(ids), 60, poll_s=0.005)
        received = {m["msg_id"] for m in read_messages(db, kind="events/exception")}
        return {"queued_s": queued_s, "drain_s": drain_s, "ids": ids, "samples": samples, "arrived": arrived,
                "received": received, "counts": read_counts(db)}
    finally:
        link.stop(drain_timeout_s=5)
        _stop_listener(listener)


def _report(backlog: int, m: dict) -> int:
    lost, rate, samples, counts = len(m["ids"] - m["received"]), backlog / m["drain_s"], m["samples"], m["counts"]
    print(f"backlog queued:   {backlog} events in {m['queued_s']:.2f} s = {backlog / m['queued_s']:,.0f} events/s "
          f"(one synchronous=FULL commit each)")
    print(f"backlog drained:  {backlog} events in {m['drain_s']:.2f} s = {rate:,.0f} events/s over TLS "
          f"(target >= {TARGET_EVENTS_PER_S:,}) {'OK' if rate >= TARGET_EVENTS_PER_S else 'BELOW TARGET'}")
    print(f"publish latency:  p50 {_percentile(samples, 50):.2f} ms, p99 {_percentile(samples, 99):.2f} ms, "
          f"max {max(samples):.2f} ms over {len(samples)} messages (add+fsync -> PUBACK -> committed sent)")
    print(f"at the consumer:  {len(m['received'] & m['ids'])}/{len(m['ids'])} msg_ids, lost {lost}, "
          f"duplicates removed {counts.duplicates}, invalid {counts.invalid}, all arrived: {m['arrived']}")
    print(f"machine:          {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    return 0 if lost == 0 and counts.invalid == 0 else 1


def run(backlog: int, latency_count: int, directory: Path) -> int:
    broker = MosquittoBroker(directory / "broker", make_test_pki(directory / "pki", [DEVICE])).start()
    try:
        measured = _measure(broker, directory, backlog, latency_count)
    finally:
        broker.stop()
    return _report(backlog, measured)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench bmis_drain")
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--latency", type=int, default=500)
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bmis-bench-") as directory:
        return run(args.backlog, args.latency, Path(directory))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
