"""`gatesim bmis`: the tester's BMIS side (and a gate-side load emitter).

    gatesim bmis broker --dir DIR [--devices gate-a,gate-b] [--seconds S]   test mosquitto + PKI
    gatesim bmis listen --port P --ca CA --user U --password PW --db FILE [--seconds S] [--json]
    gatesim bmis show --db FILE [--kind K] [--device D] [--json]
    gatesim bmis send --port P --ca CA --user U --password PW --db FILE --device D --command NAME
                      [--body JSON] [--key ED25519_PEM] [--timeout S] [--json]
    gatesim bmis emit --config GATE_TOML --total N [--rate R]             a gate emitting N events

Exit codes: 0 ok, 1 check failed (no answer, nack, not drained), 2 usage or unreadable input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from simulator.local_process import wait_until

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(groups) -> None:
    cmd = groups.add_parser("bmis", help="reference BMIS: test broker, consumer, commands, gate emitter")
    actions = cmd.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    for add in (_add_broker, _add_listen, _add_show, _add_send, _add_emit):
        add(actions)


def _add_broker(actions) -> None:
    broker = actions.add_parser("broker", help="run a test mosquitto with TLS, client certs and ACL")
    broker.add_argument("--dir", type=Path, required=True)
    broker.add_argument("--devices", default="gate-sim-01")
    broker.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds (0: until Ctrl-C)")
    broker.set_defaults(func=run_broker)


def _add_listen(actions) -> None:
    listen = actions.add_parser("listen", help="consume gate messages into SQLite (shared subscription)")
    _connection_args(listen)
    listen.add_argument("--seconds", type=float, default=0.0)
    listen.set_defaults(func=run_listen)


def _add_show(actions) -> None:
    show = actions.add_parser("show", help="show what arrived")
    show.add_argument("--db", type=Path, required=True)
    show.add_argument("--kind")
    show.add_argument("--device")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)


def _add_send(actions) -> None:
    send = actions.add_parser("send", help="send a (signed) command and wait for its cmd-result")
    _connection_args(send)
    send.add_argument("--device", required=True)
    send.add_argument("--command", required=True)
    send.add_argument("--body", default="{}", help="JSON object merged into the command")
    send.add_argument("--key", type=Path, help="Ed25519 private key (PEM) to sign with")
    send.add_argument("--timeout", type=float, default=10.0)
    send.set_defaults(func=run_send)


def _add_emit(actions) -> None:
    emit = actions.add_parser("emit", help="act as a gate: queue exception events until N exist, drain, exit")
    emit.add_argument("--config", type=Path, required=True)
    emit.add_argument("--total", type=int, required=True)
    emit.add_argument("--rate", type=float, default=0.0, help="events per second (0: as fast as possible)")
    emit.add_argument("--timeout", type=float, default=60.0)
    emit.set_defaults(func=run_emit)


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--user", default="bmis")
    parser.add_argument("--password", default=os.environ.get("BMIS_PASSWORD"))
    parser.add_argument("--client-id", default="gatesim-bmis")
    parser.add_argument("--prefix", default="gates")
    parser.add_argument("--group", default="bmis")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--json", action="store_true")


def _consumer(args, persistent: bool = True):
    """`listen` keeps a persistent session in the shared group; `send` a throw-away one in its own
    group, so the answer reaches it even when other consumers share the BMIS group."""
    from firmware_app.bmis.mqtt_client import MqttSettings
    from simulator.bmis_consumer import BmisConsumer
    settings = MqttSettings(host=args.host, port=args.port, client_id=args.client_id, ca_file=args.ca,
                            username=args.user, password=args.password, reconnect_min_s=0.5, reconnect_max_s=5,
                            clean_start=not persistent, session_expiry_s=7 * 24 * 3600 if persistent else 0)
    group = args.group if persistent else f"{args.client_id}-send"
    return BmisConsumer(args.db, settings, prefix=args.prefix, group=group)


def run_broker(args) -> int:
    from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
    from simulator.bmis_pki import make_test_pki
    devices = [d for d in args.devices.split(",") if d]
    try:
        broker = MosquittoBroker(args.dir / "broker", make_test_pki(args.dir / "pki", devices)).start()
    except (BrokerUnavailable, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    ep = broker.endpoints
    print(json.dumps({"device_port": ep.device_port, "bmis_port": ep.bmis_port, "ca": str(ep.ca_file),
                      "bmis_user": ep.bmis_user, "bmis_password": ep.bmis_password,
                      "devices": {d: {"cert": str(p.cert), "key": str(p.key)} for d, p in broker.pki.devices.items()}},
                     indent=2), flush=True)
    return _hold(args.seconds, broker.stop)


def _hold(seconds: float, stop) -> int:
    deadline = time.monotonic() + seconds if seconds > 0 else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return EXIT_OK


def run_listen(args) -> int:
    from firmware_app.bmis.errors import BmisLinkError
    try:
        consumer = _consumer(args)
        consumer.start()
    except BmisLinkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if wait_until(lambda: consumer.connected, 10):
        print("listening", flush=True)
    code = _hold(args.seconds, consumer.stop)
    counts = consumer.counts()
    summary = {"stored": counts.stored, "duplicates_removed": counts.duplicates, "invalid": counts.invalid,
               "device_mismatch": counts.device_mismatch, "receipts_sent": counts.receipts_sent}
    print(json.dumps(summary) if args.json else
          f"stored {counts.stored}, duplicates removed {counts.duplicates}, invalid {counts.invalid} "
          f"(device mismatch {counts.device_mismatch}), receipts sent {counts.receipts_sent}")
    return code


def run_show(args) -> int:
    if not args.db.is_file():
        print(f"error: no database at {args.db}", file=sys.stderr)
        return EXIT_USAGE
    from simulator.bmis_consumer import read_messages
    messages = read_messages(args.db, args.kind, args.device)
    if args.json:
        print(json.dumps(messages, indent=2))
        return EXIT_OK
    for m in messages:
        print(f"{m['time']}  {m['device_id']:<16} boot {m['boot']:<3} seq {m['seq']:<7} {m['kind']:<18} "
              f"{_summary(m['data'])}")
    print(f"{len(messages)} messages")
    return EXIT_OK


def _summary(data: dict) -> str:
    """A line per message without personal data: only codes and states."""
    for key in ("state", "outcome", "kind", "status"):
        if key in data:
            return f"{key}={data[key]}" + (f" reason={data['reason']}" if "reason" in data else "")
    return ""


def run_send(args) -> int:
    from firmware_app.bmis.errors import BmisLinkError
    try:
        body = json.loads(args.body)
        key = _load_key(args.key) if args.key else None
        consumer = _consumer(args, persistent=False)
    except (ValueError, OSError, BmisLinkError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(body, dict):
        print("error: --body must be a JSON object", file=sys.stderr)
        return EXIT_USAGE
    consumer.start()
    try:
        if not wait_until(lambda: consumer.connected, args.timeout):
            print("error: broker not reachable", file=sys.stderr)
            return EXIT_FAILED
        correlation = consumer.send_command(args.device, args.command, body, signing_key=key)
        result = consumer.wait_result(correlation, args.timeout)
    finally:
        consumer.stop()
    print(json.dumps(result) if args.json or result else "no answer")
    return EXIT_OK if result and result.get("status") == "ack" else EXIT_FAILED


def _load_key(path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def run_emit(args) -> int:
    from simulator.bmis_emit import emit
    return emit(args.config, args.total, args.rate, args.timeout)
