"""BMIS at national scale: many gates -> mosquitto -> 1, 2 and 4 bmis-ingest workers -> PostgreSQL.

    .venv/bin/python -m bench bmis_scale [--gates 200] [--farms 2] [--seconds 30] [--rate R]
                                         [--backlog-per-gate 50] [--workers 1,2,4] [--no-faults]

Real parts only: Debian mosquitto (TLS, one client certificate per gate, ACL, persistence),
the gates' own BMIS link code (outbox, pump, MQTT) many per process (bench/bmis_scale_farm.py),
`bmis-ingest` worker processes on one shared subscription, a PostgreSQL server (fresh database per
worker count). For each worker count:
  1. sustained: the gates send RATE events/s for SECONDS (default: 10x peak hour, see PEAK_* below);
     a third in, the broker is restarted; two thirds in, one worker is SIGKILLed and restarted 1 s
     later (as systemd would). Prints events/s stored, end-to-end latency p50/p99 (the gate's
     message time -> the ingest's commit), lost and duplicate counts.
  2. capacity: the workers stop, every gate queues a backlog at the broker (their persistent
     sessions hold it), the workers start: backlog drain rate of the ingest (first to last commit).
Exactly-once: every msg_id a gate recorded is in the database once (primary key), none missing, and
every gate's outbox ends empty (a record leaves it only on the ingest's receipt, sent after commit).
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.bmis_scale_farm import gate_id  # noqa: E402
from firmware_app.bmis.ingest.store import open_store  # noqa: E402
from firmware_app.bmis.mqtt_client import Callbacks, MqttConnection, MqttSettings  # noqa: E402
from simulator.bmis_broker import MosquittoBroker  # noqa: E402
from simulator.bmis_pki import make_test_pki  # noqa: E402
from simulator.local_process import wait_until  # noqa: E402
from simulator.postgres_server import PostgresServer  # noqa: E402

# Assumption: at peak hour a busy e-gate serves one traveller every 12 s (300 crossings an hour),
# one crossing event each; "10x peak hour" for the default 200 gates is then 166.7 events/s.
PEAK_CROSSINGS_PER_GATE_HOUR = 300
PEAK_FACTOR = 10


def target_rate(gates: int) -> float:
    return PEAK_FACTOR * gates * PEAK_CROSSINGS_PER_GATE_HOUR / 3600


@dataclass
class Rig:
    directory: Path
    broker: MosquittoBroker
    postgres: PostgresServer
    farms: list[subprocess.Popen]


# -- processes -------------------------------------------------------------------------------------
def _start_farms(args, directory: Path, broker: MosquittoBroker) -> list[subprocess.Popen]:
    per, farms = -(-args.gates // args.farms), []
    for first in range(0, args.gates, per):
        farms.append(subprocess.Popen(
            [sys.executable, "-m", "bench.bmis_scale_farm", "--pki", str(directory / "pki"), "--port",
             str(broker.device_port), "--first", str(first), "--count", str(min(per, args.gates - first)),
             "--dir", str(directory / "gates")], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for farm in farms:
        if farm.stdout.readline().strip() != "ready":
            raise SystemExit("a gate farm did not start")
    return farms


def _tell(farms: list[subprocess.Popen], command: str) -> None:
    for farm in farms:
        farm.stdin.write(command + "\n")
        farm.stdin.flush()


def _answers(farms: list[subprocess.Popen]) -> int:
    return sum(int(farm.stdout.readline().split()[1]) for farm in farms)


def _worker(rig: Rig, url: str, n: int) -> subprocess.Popen:
    return _await_ingesting(_spawn_worker(rig, url, n))


def _workers(rig: Rig, url: str, count: int) -> list[subprocess.Popen]:
    """Started together (a worker takes ~1 s to import and connect; one after another would skew the
    capacity run towards the first)."""
    return [_await_ingesting(process) for process in [_spawn_worker(rig, url, n) for n in range(count)]]


def _await_ingesting(process: subprocess.Popen) -> subprocess.Popen:
    if process.stdout.readline().strip() != "ingesting":
        raise SystemExit("an ingest worker did not start")
    return process


def _spawn_worker(rig: Rig, url: str, n: int) -> subprocess.Popen:
    ep = rig.broker.endpoints
    env = {**os.environ, "BMIS_INGEST_PASSWORD": ep.ingest_password}
    process = subprocess.Popen(
        [sys.executable, "-m", "firmware_app.bmis.ingest", "--host", ep.host, "--port", str(ep.bmis_port),
         "--ca", str(ep.ca_file), "--user", ep.ingest_user, "--client-id", f"ingest-{n}", "--group", "bench",
         "--database", url], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    return process


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _forget_sessions(rig: Rig, count: int) -> None:
    """End the workers' persistent sessions (clean start, expiry 0) so the next worker count does not
    share the group with sessions nobody reads."""
    ep = rig.broker.endpoints
    for n in range(count):
        settings = MqttSettings(host=ep.host, port=ep.bmis_port, client_id=f"ingest-{n}", ca_file=ep.ca_file,
                                username=ep.ingest_user, password=ep.ingest_password, session_expiry_s=0,
                                clean_start=True)
        conn = MqttConnection(settings, Callbacks(on_ack=lambda *a: None))
        conn.start()
        wait_until(lambda: conn.connected, 10)
        conn.stop()


# -- measuring -------------------------------------------------------------------------------------
def _sent_ids(directory: Path) -> set[str]:
    ids: set[str] = set()
    for path in (directory / "gates").glob("sent-*.txt"):
        ids.update(path.read_text().split())
    return ids


def _stored(url: str) -> list[tuple[str, float, float]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT msg_id::text, extract(epoch FROM time)::float8, stored_at FROM messages"
                            " WHERE kind = 'events/exception'").fetchall()


def _wait_all_stored(url: str, wanted: set[str], timeout_s: float) -> bool:
    def done() -> bool:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM messages WHERE kind = 'events/exception'").fetchone()[0] \
                >= len(wanted)
    return wait_until(done, timeout_s, 0.25)


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _faults(rig: Rig, workers: list[subprocess.Popen], url: str, seconds: float) -> list[str]:
    """Broker restart at 1/3, SIGKILL of worker 0 (restarted 1 s later) at 2/3 of the run."""
    notes = []
    time.sleep(seconds / 3)
    started = time.monotonic()
    rig.broker.restart()
    notes.append(f"broker restarted ({time.monotonic() - started:.1f} s)")
    time.sleep(max(0.0, seconds / 3 - (time.monotonic() - started)))
    workers[0].kill()
    workers[0].wait()
    time.sleep(1.0)
    workers[0] = _worker(rig, url, 0)
    notes.append("worker 0 SIGKILLed, restarted after 1 s")
    return notes


def _sustained(rig: Rig, args, workers: list[subprocess.Popen], url: str) -> dict:
    before = _sent_ids(rig.directory)
    started = time.time()
    _tell(rig.farms, f"run {args.seconds} {args.rate / len(rig.farms)}")
    notes = [] if args.no_faults else _faults(rig, workers, url, args.seconds)
    answers = [farm.stdout.readline().split() for farm in rig.farms]
    sent = sum(int(a[1]) for a in answers)
    sent_rate = sent / max(float(a[2]) for a in answers)   # below --rate when the gates cannot keep up
    ids = _sent_ids(rig.directory) - before
    complete = _wait_all_stored(url, ids, 120)
    rows = [r for r in _stored(url) if r[0] in ids]
    latencies = [(stored_at - sent_at) * 1000 for _, sent_at, stored_at in rows]
    last = max((r[2] for r in rows), default=started)
    return {"sent": sent, "sent_rate": sent_rate, "stored": len(rows), "lost": len(ids) - len(rows),
            "complete": complete,
            "rate": len(rows) / max(1e-9, last - started), "p50": _pct(latencies, 50), "p99": _pct(latencies, 99),
            "max": max(latencies), "notes": notes}


def _capacity(rig: Rig, args, workers: list[subprocess.Popen], url: str) -> dict:
    _stop_workers(workers)
    before = _sent_ids(rig.directory)
    _tell(rig.farms, f"backlog {args.backlog_per_gate}")
    queued = _answers(rig.farms)
    ids = _sent_ids(rig.directory) - before
    workers[:] = _workers(rig, url, len(workers))
    complete = _wait_all_stored(url, ids, 300)
    commits = sorted(r[2] for r in _stored(url) if r[0] in ids)
    # From the first commit to the last: the rows of that first commit arrived before the clock started.
    after_first = [t for t in commits if t > commits[0]] if commits else []
    rate = len(after_first) / (commits[-1] - commits[0]) if after_first else float("nan")
    return {"queued": queued, "stored": len(commits), "complete": complete, "rate": rate}


def _exactly_once(url: str, all_ids: set[str]) -> tuple[int, int, int]:
    """(missing, stored more than once, duplicates the ingest removed)."""
    with psycopg.connect(url) as conn:
        rows = [r[0] for r in conn.execute("SELECT msg_id::text FROM messages WHERE kind = 'events/exception'")]
        removed = conn.execute("SELECT value FROM counters WHERE name = 'duplicates'").fetchone()
    return len(all_ids - set(rows)), len(rows) - len(set(rows)), removed[0] if removed else 0


def measure(rig: Rig, args, count: int) -> dict:
    url = rig.postgres.create_database(f"bench_w{count}")
    open_store(url).close()                               # migrate once, before the workers race
    before = _sent_ids(rig.directory)
    workers = _workers(rig, url, count)
    try:
        sustained = _sustained(rig, args, workers, url)
        capacity = _capacity(rig, args, workers, url)
        _tell(rig.farms, "settle")
        kept = _answers(rig.farms)
    finally:
        _stop_workers(workers)
        _forget_sessions(rig, count)
    missing, doubled, removed = _exactly_once(url, _sent_ids(rig.directory) - before)
    return {"workers": count, "sustained": sustained, "capacity": capacity, "missing": missing,
            "doubled": doubled, "removed": removed, "kept": kept}


# -- report ----------------------------------------------------------------------------------------
def _report(args, results: list[dict]) -> int:
    target = target_rate(args.gates)
    print(f"assumption: peak hour = {PEAK_CROSSINGS_PER_GATE_HOUR} crossings per gate per hour; "
          f"{PEAK_FACTOR}x peak for {args.gates} gates = {target:.1f} events/s; offered {args.rate:.1f} events/s "
          f"for {args.seconds:.0f} s")
    failed = 0
    for r in results:
        s, c = r["sustained"], r["capacity"]
        ok = r["missing"] == 0 and r["doubled"] == 0 and r["kept"] == 0
        failed |= not ok
        print(f"workers {r['workers']}: gates sent {s['sent_rate']:,.1f} events/s, "
              f"sustained {s['rate']:,.1f} events/s stored ({s['stored']}/{s['sent']}), "
              f"latency p50 {s['p50']:.0f} ms p99 {s['p99']:.0f} ms max {s['max']:.0f} ms; "
              f"capacity {c['rate']:,.0f} events/s draining {c['queued']} queued; "
              f"exactly-once {'OK' if ok else 'FAILED'} (missing {r['missing']}, stored twice {r['doubled']}, "
              f"duplicates removed {r['removed']}, records still unreceipted in the gates' outboxes {r['kept']}); "
              f"faults: {', '.join(s['notes']) or 'none'}")
    print(f"10x peak ({target:.1f} events/s) with 0 lost: {_verdict(args, results, target)}")
    rates = {r["workers"]: r["capacity"]["rate"] for r in results}
    if 1 in rates and 2 in rates:
        verdict = "beats" if rates[2] > 1.05 * rates[1] else "does NOT beat"
        print(f"capacity: 2 workers {verdict} 1 ({rates[2]:,.0f} vs {rates[1]:,.0f} events/s)")
    print(f"machine: {os.cpu_count()} CPUs (gates, broker, workers and PostgreSQL share them), "
          f"load average {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


def _verdict(args, results: list[dict], target: float) -> str:
    """MET only when the gates really sent the target rate and the ingest stored it all, in time."""
    if args.rate < target:
        return "not tested (offered rate below the target)"
    slow = [r["workers"] for r in results if r["sustained"]["sent_rate"] < 0.95 * target]
    if slow:
        return (f"not tested with {slow} worker(s): the gates themselves sent below the target "
                f"(machine overloaded; see the load average)")
    met = all(r["sustained"]["rate"] >= 0.95 * target and r["missing"] == 0 for r in results)
    return "MET" if met else "NOT MET"


def run(args, directory: Path) -> int:
    gates = [gate_id(n) for n in range(args.gates)]
    pki = make_test_pki(directory / "pki", gates)
    broker = MosquittoBroker(directory / "broker", pki).start()
    postgres = PostgresServer(max_connections=100).start()
    farms: list[subprocess.Popen] = []
    try:
        farms = _start_farms(args, directory, broker)
        rig = Rig(directory, broker, postgres, farms)
        results = []
        for count in args.workers:
            results.append(measure(rig, args, count))
            print(f"  (done with {count} worker{'s' if count > 1 else ''})", flush=True)
    finally:
        _tell(farms, "stop")
        for farm in farms:
            try:
                farm.wait(60)
            except subprocess.TimeoutExpired:
                farm.kill()
        broker.stop()
        postgres.stop()
    return _report(args, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench bmis_scale")
    parser.add_argument("--gates", type=int, default=200)
    parser.add_argument("--farms", type=int, default=2, help="gate processes")
    parser.add_argument("--seconds", type=float, default=30.0, help="sustained run per worker count")
    parser.add_argument("--rate", type=float, default=None, help="events/s offered (default: 10x peak)")
    parser.add_argument("--backlog-per-gate", type=int, default=50, help="capacity run: events queued per gate")
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2, 4])
    parser.add_argument("--no-faults", action="store_true", help="no broker restart, no worker SIGKILL")
    args = parser.parse_args(argv or [])
    args.rate = args.rate or target_rate(args.gates)
    with tempfile.TemporaryDirectory(prefix="bmis-scale-") as directory:
        return run(args, Path(directory))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
