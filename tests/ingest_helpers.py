"""Helpers for bmis-ingest tests on a real mosquitto: settings for the ingest account, a receipt
watcher (the BMIS account may read every receipt topic), a worker process and raw gate publishes."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from firmware_app.bmis.contract import Identity, MessageKind, build, encode, problems
from firmware_app.bmis.mqtt_client import Callbacks, Incoming, MqttConnection, MqttSettings
from simulator.bmis_broker import MosquittoBroker
from tests.broker_fixtures import consumer_settings, device_settings
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]


def ingest_settings(broker: MosquittoBroker, client_id: str) -> MqttSettings:
    ep = broker.endpoints
    return MqttSettings(host=ep.host, port=ep.bmis_port, client_id=client_id, ca_file=ep.ca_file,
                        username=ep.ingest_user, password=ep.ingest_password, keepalive_s=5,
                        reconnect_min_s=0.1, reconnect_max_s=0.5)


class ReceiptWatch:
    """Every receipt on {prefix}/v1/+/receipt, checked against receipt.json on arrival."""

    def __init__(self, broker: MosquittoBroker, on_receipt=lambda device, ids: None):
        self.ids: dict[str, list[str]] = {}
        self.problems: list[str] = []
        self._lock, self._on_receipt = threading.Lock(), on_receipt
        self._conn = MqttConnection(consumer_settings(broker, "receipt-watch"),
                                    Callbacks(on_ack=lambda *a: None, on_message=self._message),
                                    subscriptions=("gates/v1/+/receipt",))

    def _message(self, incoming: Incoming) -> None:
        body = json.loads(incoming.payload)
        device = incoming.topic.split("/")[2]
        with self._lock:
            self.problems += problems("receipt.json", body)
            self.ids.setdefault(device, []).extend(body["msg_ids"])
        self._on_receipt(device, body["msg_ids"])

    def start(self) -> ReceiptWatch:
        self._conn.start()
        assert wait_until(lambda: self._conn.connected)
        return self

    def receipted(self, device: str) -> set[str]:
        with self._lock:
            return set(self.ids.get(device, []))

    def stop(self) -> None:
        self._conn.stop()


def gate_connection(broker: MosquittoBroker, device_id: str) -> MqttConnection:
    """A gate's own MQTT connection (its certificate), for publishing hand-made messages."""
    conn = MqttConnection(device_settings(broker, device_id), Callbacks(on_ack=lambda *a: None))
    conn.start()
    assert wait_until(lambda: conn.connected)
    return conn


def alarm_claiming(device_id: str) -> bytes:
    """A schema-valid alarm whose payload names `device_id` (whatever topic it is sent on)."""
    message = build(Identity(device_id, "post-t"), MessageKind.ALARM, {"kind": "door_forced", "severity": "critical",
                    "active": True}, msg_id=uuid.uuid4(), seq=1, boot=1, now=dt.datetime.now(dt.UTC))
    return encode(message)


def start_worker_process(broker: MosquittoBroker, database: str, client_id: str, *, crash_before_commit: bool = False,
                         held_file: Path | None = None) -> subprocess.Popen:
    """`bmis-ingest` in its own process; with crash_before_commit it SIGKILLs itself before committing
    its first batch holding an event (after writing that batch's msg_ids to held_file)."""
    ep = broker.endpoints
    args = ["--host", ep.host, "--port", str(ep.bmis_port), "--ca", str(ep.ca_file), "--user", ep.ingest_user,
            "--client-id", client_id, "--database", database, "--flush-ms", "300"]
    code = (_CRASHING.format(held=str(held_file)) if crash_before_commit
            else "import sys; from firmware_app.bmis.ingest.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "BMIS_INGEST_PASSWORD": ep.ingest_password}
    process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline().strip()
    assert line == "ingesting", f"worker did not start: {line!r}"
    return process


# The product worker with one injected fault: killed between receive and commit.
_CRASHING = """
import os, signal, sys
from pathlib import Path
from firmware_app.bmis.ingest import cli, worker

class Crashing(worker.IngestWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, before_commit=self._crash, **kwargs)

    def _crash(self, batch):
        events = [m.msg_id for m in batch.accepted if m.kind.startswith("events/")]
        if events:
            Path({held!r}).write_text("\\n".join(events))
            os.kill(os.getpid(), signal.SIGKILL)

cli.IngestWorker = Crashing
sys.exit(cli.main(sys.argv[1:]))
"""
