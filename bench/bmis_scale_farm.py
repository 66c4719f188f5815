"""A process full of simulated gates for `bench bmis_scale`: each gate is the project's own BMIS link
(durable outbox with synchronous=FULL, pump, MQTT with its client certificate), many per process.

    python -m bench.bmis_scale_farm --pki DIR --port N --first 0 --count 100 --dir DIR

Reads commands on stdin, answers one line each on stdout:
    run SECONDS RATE   events at RATE per second (this farm, random gates) -> "ran N ELAPSED_S"
    backlog PER_GATE   each gate records PER_GATE events at once, then waits for every PUBACK -> "queued N"
    settle             waits (up to 60 s) for every record to be receipted -> "left N" (records still kept)
    stop               links stopped -> "stopped"
Every msg_id sent is appended to DIR/sent-<first>.txt.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import sys
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
from simulator.local_process import wait_until  # noqa: E402


def gate_id(n: int) -> str:
    return f"gate-{n:03d}"


def _link(args: argparse.Namespace, n: int) -> BmisLink:
    device = gate_id(n)
    settings = MqttSettings(host="127.0.0.1", port=args.port, client_id=device, ca_file=args.pki / "ca.pem",
                            cert_file=args.pki / f"device-{device}.crt", key_file=args.pki / f"device-{device}.key",
                            keepalive_s=10, reconnect_min_s=0.2, reconnect_max_s=1.0, max_inflight=32)
    outbox = Outbox(args.dir / f"{device}.db", Identity(device, f"post-{n // 20:02d}"),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4,
                    limits=OutboxLimits(max_messages=200_000))
    return BmisLink(outbox, connection_factory=connection_factory(settings), window=32, retry_delay_s=0.2)


def _event(n: int) -> dict:
    return {"kind": "bench", "severity": "info", "transaction_id": f"scale-{n}"}


class Farm:
    def __init__(self, args: argparse.Namespace):
        self.links = [_link(args, n) for n in range(args.first, args.first + args.count)]
        self.sent_file = (args.dir / f"sent-{args.first}.txt").open("a")
        self.rng, self.counter = random.Random(args.first), 0

    def start(self) -> None:
        for link in self.links:
            link.start()
        if not wait_until(lambda: all(link.connected for link in self.links), 60, 0.1):
            raise SystemExit("not every gate connected")

    def _record(self, link: BmisLink) -> None:
        self.counter += 1
        self.sent_file.write(link.record_exception(_event(self.counter)).msg_id + "\n")

    def run(self, seconds: float, rate: float) -> tuple[int, float]:
        """Events on a fixed schedule (catching up if a record took long), spread over random gates."""
        start, total = time.monotonic(), int(seconds * rate)
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._record(self.rng.choice(self.links))
        self.sent_file.flush()
        return total, time.monotonic() - start

    def backlog(self, per_gate: int) -> int:
        for link in self.links:
            for _ in range(per_gate):
                self._record(link)
        self.sent_file.flush()
        wait_until(lambda: all(link.outbox.counts().pending == 0 for link in self.links), 300, 0.2)
        return per_gate * len(self.links)

    def _kept(self) -> int:
        return sum(c.pending + c.unreceipted for c in (link.outbox.counts() for link in self.links))

    def settle(self) -> int:
        """Records leave a gate's outbox only on the BMIS's receipt: 0 kept means the loop closed."""
        wait_until(lambda: self._kept() == 0, 60, 0.5)
        return self._kept()

    def stop(self) -> None:
        for link in self.links:
            link.stop(drain_timeout_s=5)
        self.sent_file.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="bmis_scale_farm")
    parser.add_argument("--pki", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)   # reconnects during the broker restart are expected
    args.dir.mkdir(parents=True, exist_ok=True)
    farm = Farm(args)
    farm.start()
    print("ready", flush=True)
    for line in sys.stdin:
        command, *values = line.split()
        if command == "run":
            sent, elapsed = farm.run(float(values[0]), float(values[1]))
            print(f"ran {sent} {elapsed:.3f}", flush=True)
        elif command == "backlog":
            print(f"queued {farm.backlog(int(values[0]))}", flush=True)
        elif command == "settle":
            print(f"left {farm.settle()}", flush=True)
        elif command == "stop":
            break
    farm.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
