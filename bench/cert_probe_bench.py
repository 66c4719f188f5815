"""How long `gatectl cert renew`'s broker probe takes to answer, against a real TLS mosquitto.

    .venv/bin/python -m bench cert_probe [--runs 5] [--timeout 15]

Prints, per run, the seconds the probe (firmware_app/deploy/broker_probe.py) needs for a client
certificate the broker accepts and for one it refuses (same CN, unknown issuer), and the verify
timeout it stays under: a refusal ends the probe at the broker's answer, not at the timeout.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from firmware_app.config import parse_config  # noqa: E402
from firmware_app.deploy.broker_probe import probe_broker  # noqa: E402
from firmware_app.deploy.errors import RenewalError  # noqa: E402
from simulator.bmis_broker import MosquittoBroker  # noqa: E402
from simulator.bmis_pki import make_test_pki  # noqa: E402


def _config(port: int, pki):
    pair = pki.devices["gate-a"]
    return parse_config(f'[device]\nid = "gate-a"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                        f'[bmis]\nhost = "127.0.0.1"\nport = {port}\nca_file = "{pki.ca}"\n'
                        f'cert_file = "{pair.cert}"\nkey_file = "{pair.key}"\n')


def _timed(config, pair, timeout_s: float) -> tuple[float, bool]:
    started = time.monotonic()
    try:
        probe_broker(config, pair.cert, pair.key, timeout_s)
        accepted = True
    except RenewalError:
        accepted = False
    return time.monotonic() - started, accepted


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench cert_probe")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cert-probe-"))
    pki, rogue = make_test_pki(work / "pki", ["gate-a"]), make_test_pki(work / "rogue", ["gate-a"])
    broker = MosquittoBroker(work / "broker", pki).start()
    try:
        config = _config(broker.device_port, pki)
        for label, pair, expected in (("accepted", pki.devices["gate-a"], True),
                                      ("refused", rogue.devices["gate-a"], False)):
            times = []
            for _ in range(args.runs):
                seconds, accepted = _timed(config, pair, args.timeout)
                if accepted is not expected:
                    print(f"{label}: unexpected outcome (accepted={accepted})", file=sys.stderr)
                    return 1
                times.append(seconds)
            print(f"{label:9s} median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                  f"(timeout {args.timeout:g} s, {args.runs} runs)")
    finally:
        broker.stop()
    return 0
