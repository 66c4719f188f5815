"""`bmis-ingest`: run one ingest worker (start as many as you like: they share the load).

    bmis-ingest --host broker.post --port 8883 --ca ca.pem --user bmis-ingest \
                --password-file /etc/bmis-ingest/password --database postgresql://ingest@db/bmis

The password comes from --password-file or $BMIS_INGEST_PASSWORD, never the command line (ps shows
it). Prints "ingesting" once connected and subscribed; SIGTERM/SIGINT commit what arrived and stop.
Exit 0 on a clean stop, 2 on a usage or configuration error, 1 when the store cannot be opened.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ..errors import MqttSettingsError
from ..mqtt_client import MqttSettings
from .errors import DatabaseUrlError, StoreUnavailable
from .store import open_store
from .worker import IngestOptions, IngestWorker

DEFAULT_DATABASE = "sqlite:///var/lib/bmis-ingest/ingest.db"
PASSWORD_ENV = "BMIS_INGEST_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bmis-ingest", description="BMIS ingest worker (MQTT 5 -> database)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8883)
    p.add_argument("--ca", type=Path, required=True, help="CA certificate of the broker")
    p.add_argument("--user", default="bmis-ingest")
    p.add_argument("--password-file", type=Path)
    p.add_argument("--client-id", default=f"bmis-ingest-{os.uname().nodename}",
                   help="stable per worker: its persistent session holds unacknowledged messages")
    p.add_argument("--group", default="bmis-ingest", help="shared subscription group")
    p.add_argument("--prefix", default="gates")
    p.add_argument("--database", default=DEFAULT_DATABASE, help="sqlite:///path.db, a path, or postgresql://...")
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--flush-ms", type=float, default=50.0)
    p.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: run until signalled)")
    p.add_argument("--migrate-only", action="store_true", help="apply schema migrations and exit")
    return p


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        return args.password_file.read_text().strip()
    return os.environ.get(PASSWORD_ENV)


def _settings(args: argparse.Namespace) -> MqttSettings:
    return MqttSettings(host=args.host, port=args.port, client_id=args.client_id, ca_file=args.ca,
                        username=args.user, password=_password(args), keepalive_s=10, reconnect_min_s=0.2,
                        reconnect_max_s=5.0)


def _run(worker: IngestWorker, seconds: float) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    while not worker.connected and not stop.wait(0.05):
        pass
    time.sleep(0.2)   # SUBSCRIBE goes out right after CONNACK: let it land before saying so
    print("ingesting", flush=True)
    stop.wait(seconds if seconds > 0 else None)
    worker.stop()
    c = worker.counters
    print(f"received {c.received} stored {c.stored} duplicates {c.duplicates} rejected {c.rejected} "
          f"receipts {c.receipts}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        store = open_store(args.database)
    except DatabaseUrlError as exc:
        print(f"bmis-ingest: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"bmis-ingest: {exc}", file=sys.stderr)
        return 1
    try:
        if args.migrate_only:
            print(f"schema version {store.schema_version()}")
            return 0
        options = IngestOptions(prefix=args.prefix, group=args.group, batch_max=args.batch_max,
                                flush_s=args.flush_ms / 1000)
        _run(IngestWorker(store, _settings(args), options), args.seconds)
        return 0
    except (MqttSettingsError, OSError) as exc:
        print(f"bmis-ingest: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main())
