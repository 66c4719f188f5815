"""Reference BMIS consumer: what a post's BMIS does with the gates' messages, small enough to read.

Subscribes with a shared subscription ($share/{group}/...) and a persistent session, validates every
message against its schema, takes the device from the topic (the broker's ACL binds it to the gate's
certificate; a payload naming another device is refused and counted as `device_mismatch`),
de-duplicates on msg_id in SQLite (a message already stored is counted as a duplicate and dropped),
and can send commands (signed when a key is given) with a response topic and correlation data.

SQLite here is WAL + synchronous=FULL: a message is on disk before it is receipted. Receipts
(schemas/receipt.json) name every stored or duplicate msg_id and go out in batches, per device, from
a small thread (at most `receipt_interval_s` after the commit, 500 ids each).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from firmware_app.bmis.contract import (
    MAX_RECEIPT_IDS,
    MessageKind,
    build_receipt,
    chunks,
    decode,
    kind_of_topic,
    problems,
    receipt_topic,
    utc_text,
)
from firmware_app.bmis.errors import ContractViolation
from firmware_app.bmis.mqtt_client import Callbacks, Incoming, MqttConnection, MqttSettings

log = logging.getLogger(__name__)
# "cmd-result/#" also matches "cmd-result" itself (MQTT: # includes the parent level).
GATE_SUFFIXES = ("status", "health", "events/#", "alarms", "stats", "cmd-result/#")


@dataclass(frozen=True)
class ConsumerCounts:
    stored: int
    duplicates: int
    invalid: int
    device_mismatch: int = 0
    receipts_sent: int = 0


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")    # stored on disk before the receipt says so
    db = sqlite_utils.Database(conn)
    db["messages"].create({"msg_id": str, "device_id": str, "kind": str, "seq": int, "boot": int, "time": str,
                           "topic": str, "body": str, "received_at": str}, pk="msg_id", if_not_exists=True)
    db["invalid"].create({"id": int, "topic": str, "problem": str, "received_at": str}, pk="id",
                         if_not_exists=True)
    db["counters"].create({"name": str, "value": int}, pk="name", if_not_exists=True)
    db["results"].create({"id": int, "correlation": str, "topic": str, "body": str}, pk="id", if_not_exists=True)
    return conn


class BmisConsumer:
    def __init__(self, db_path: Path, settings: MqttSettings, *, prefix: str = "gates", group: str = "bmis",
                 send_receipts: bool = True, receipt_interval_s: float = 0.05):
        self.prefix = prefix
        self._conn = _open(db_path)
        self._lock = threading.Lock()
        self._results = threading.Condition()
        filters = tuple(f"$share/{group}/{prefix}/v1/+/{suffix}" for suffix in GATE_SUFFIXES)
        self._mqtt = MqttConnection(settings, Callbacks(on_ack=self._on_ack, on_message=self._on_message),
                                    subscriptions=filters)
        self._acks: dict[int, int] = {}
        self._send_receipts, self._receipt_interval_s = send_receipts, receipt_interval_s
        self._to_receipt: dict[str, list[str]] = {}     # device -> committed msg_ids not receipted yet
        self._stop = threading.Event()
        self._receipter: threading.Thread | None = None
        self.receipts_sent = 0

    def start(self) -> None:
        self._stop.clear()
        if self._send_receipts:
            self._receipter = threading.Thread(target=self._receipt_loop, name="bmis-receipts", daemon=True)
            self._receipter.start()
        self._mqtt.start()

    def stop(self) -> None:
        self._stop.set()
        if self._receipter is not None:
            self._receipter.join(timeout=2)
        self._mqtt.stop()

    # -- receipts --------------------------------------------------------------------------------
    def _receipt_loop(self) -> None:
        while not self._stop.wait(self._receipt_interval_s):
            if self._mqtt.connected:
                self.flush_receipts()

    def flush_receipts(self) -> int:
        """Publish receipts for everything committed so far; ids not handed to MQTT are kept."""
        with self._lock:
            batches, self._to_receipt = self._to_receipt, {}
        sent = 0
        for device_id, ids in batches.items():
            for part in chunks(ids, MAX_RECEIPT_IDS):
                payload = build_receipt(part, receipt_id=uuid.uuid4(), now=dt.datetime.now(dt.UTC))
                if self._mqtt.publish(receipt_topic(self.prefix, device_id), payload) is None:
                    with self._lock:
                        self._to_receipt.setdefault(device_id, []).extend(part)
                    continue
                sent += 1
        self.receipts_sent += sent
        return sent

    @property
    def connected(self) -> bool:
        return self._mqtt.connected

    @property
    def listening(self) -> bool:
        """Connected and every subscription granted: what gates publish now reaches us."""
        return self._mqtt.connected and self._mqtt.subscriptions_answered

    # -- receiving -------------------------------------------------------------------------------
    def _on_message(self, incoming: Incoming) -> None:
        try:
            device_id, kind = kind_of_topic(incoming.topic)
            message = decode(incoming.payload)
            found = problems(kind.schema_file, message)
            if found:
                raise ContractViolation(kind.suffix, found)
        except ContractViolation as exc:
            self._store_invalid(incoming.topic, str(exc))
            return
        if message["device_id"] != device_id:   # the topic (bound to the certificate) names the device
            self._store_invalid(incoming.topic, "device_id in the payload is not the topic's device",
                                counter="device_mismatch")
            return
        self._store(device_id, incoming.topic, kind, message, incoming.correlation_data)

    def _store(self, device_id: str, topic: str, kind: MessageKind, message: dict[str, Any],
               correlation: bytes | None) -> None:
        row = (message["msg_id"], device_id, kind.suffix, message["seq"], message["boot"],
               message["time"], topic, json.dumps(message["data"]), utc_text(dt.datetime.now(dt.UTC)))
        with self._lock:
            with self._conn:
                cursor = self._conn.execute("INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                if cursor.rowcount == 0:
                    self._bump("duplicates")
                elif kind is MessageKind.CMD_RESULT and correlation is not None:
                    self._conn.execute("INSERT INTO results(correlation, topic, body) VALUES (?, ?, ?)",
                                       (correlation.hex(), topic, json.dumps(message["data"])))
            if self._send_receipts:     # committed above: a duplicate is receipted again (its receipt was lost)
                self._to_receipt.setdefault(device_id, []).append(message["msg_id"])
        if kind is MessageKind.CMD_RESULT:
            with self._results:
                self._results.notify_all()

    def _store_invalid(self, topic: str, problem: str, counter: str | None = None) -> None:
        log.warning("invalid message on %s: %s", topic, problem)
        with self._lock, self._conn:
            self._conn.execute("INSERT INTO invalid(topic, problem, received_at) VALUES (?, ?, ?)",
                               (topic, problem[:1000], utc_text(dt.datetime.now(dt.UTC))))
            if counter is not None:
                self._bump(counter)

    def _bump(self, name: str) -> None:
        self._conn.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
                           (name,))

    def _on_ack(self, mid: int, code: int, name: str) -> None:
        with self._results:
            self._acks[mid] = code
            self._results.notify_all()

    # -- what arrived ----------------------------------------------------------------------------
    def counts(self) -> ConsumerCounts:
        with self._lock:
            found = _counts(self._conn)
        return ConsumerCounts(*found[:4], receipts_sent=self.receipts_sent)

    def messages(self, kind: str | None = None, device_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return _query_messages(self._conn, kind, device_id)

    def messages_after(self, rowid: int, kind: str | None = None,
                       device_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Messages stored after `rowid` (0: from the start) and the last rowid seen: a poller reads
        each message once instead of the whole store on every poll."""
        with self._lock:
            last = _last_rowid(self._conn)
            return _query_messages(self._conn, kind, device_id, (rowid, last)), last

    def last_rowid(self) -> int:
        with self._lock:
            return _last_rowid(self._conn)

    def seq_gaps(self, device_id: str) -> list[int]:
        """Sequence numbers missing at the BMIS (the Last Will's seq is only seen if the gate died)."""
        with self._lock:
            seqs = [r[0] for r in self._conn.execute("SELECT seq FROM messages WHERE device_id = ?", (device_id,))]
        present = set(seqs)
        return [s for s in range(1, max(seqs, default=0) + 1) if s not in present]

    # -- commands --------------------------------------------------------------------------------
    def send_command(self, device_id: str, name: str, body: dict[str, Any], *, signing_key=None,
                     ttl_s: float = 300.0, now: dt.datetime | None = None) -> bytes:
        """Publish cmd/{name}; returns the correlation data to wait for with `wait_result`."""
        now = now or dt.datetime.now(dt.UTC)
        root = f"{self.prefix}/v1/{device_id}"
        topic = f"{root}/cmd/{name}"
        command = {"command_id": str(uuid.uuid4()), "issued_at": _whole_seconds(now),
                   "expires_at": _whole_seconds(now + dt.timedelta(seconds=ttl_s)), **body}
        if signing_key is not None:
            from firmware_app.bmis.commands.signing import sign_command
            command = sign_command(signing_key, topic, command)
        correlation = command["command_id"].encode()
        self._mqtt.publish(topic, json.dumps(command).encode(), correlation=correlation,
                           response_topic=f"{root}/cmd-result")
        return correlation

    def publish_raw(self, topic: str, payload: bytes, correlation: bytes | None = None,
                    response_topic: str | None = None) -> None:
        """Anything at all on a topic (testers probing how a gate copes with hostile input)."""
        self._mqtt.publish(topic, payload, correlation=correlation, response_topic=response_topic)

    def wait_result(self, correlation: bytes, timeout_s: float = 10.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout_s
        with self._results:
            while True:
                with self._lock:
                    row = self._conn.execute("SELECT body FROM results WHERE correlation = ?",
                                             (correlation.hex(),)).fetchone()
                if row is not None or time.monotonic() >= deadline:
                    return json.loads(row[0]) if row else None
                self._results.wait(min(0.2, max(0.0, deadline - time.monotonic())))


def _whole_seconds(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_rowid(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM messages").fetchone()[0])


def _query_messages(conn: sqlite3.Connection, kind: str | None, device_id: str | None,
                    rowids: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    query, args = "SELECT msg_id, device_id, kind, seq, boot, time, topic, body FROM messages WHERE 1=1", []
    if rowids is not None:
        query, args = query + " AND rowid > ? AND rowid <= ?", args + list(rowids)
    if kind:
        query, args = query + " AND kind = ?", args + [kind]
    if device_id:
        query, args = query + " AND device_id = ?", args + [device_id]
    rows = conn.execute(query + " ORDER BY device_id, seq", args).fetchall()
    keys = ("msg_id", "device_id", "kind", "seq", "boot", "time", "topic")
    return [{**dict(zip(keys, r[:7])), "data": json.loads(r[7])} for r in rows]


def read_messages(db_path: Path, kind: str | None = None, device_id: str | None = None) -> list[dict[str, Any]]:
    """What a consumer stored, read without connecting to a broker (`gatesim bmis show`)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return _query_messages(conn, kind, device_id)
    finally:
        conn.close()


def read_counts(db_path: Path) -> ConsumerCounts:
    """Counters of a consumer database, read while the consumer may still be writing (WAL)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return ConsumerCounts(*_counts(conn))
    finally:
        conn.close()


def _counts(conn: sqlite3.Connection) -> tuple[int, int, int, int]:
    """stored, duplicates, invalid, device_mismatch."""
    stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
    invalid = conn.execute("SELECT COUNT(*) FROM invalid").fetchone()[0]
    return stored, counters.get("duplicates", 0), invalid, counters.get("device_mismatch", 0)
