"""The outbox queue: add (bounded), drain in priority order, PUBACKs, receipts, dead letters.

The design (durability, receipts, bounds, the run clock) is in the package docstring.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from firmware_app.storage import SchemaError, migrate

from .. import contract
from ..contract import Clock, Envelope, Identity, IdSource, MessageKind, Priority, validate_message
from ..errors import OutboxError, OutboxFull
from .records import OutboxCounts, OutboxLimits, PendingMessage, pending_from_row
from .storage import SCHEMA, DiskRoom, Guarded, RowState, connect, is_disk_full


class Outbox:
    def __init__(self, path: Path, identity: Identity, *, clock: Clock, id_source: IdSource,
                 limits: OutboxLimits = OutboxLimits(), validate: bool = True,
                 monotonic: Callable[[], float] = time.monotonic):
        self.path, self.identity, self.limits = path, identity, limits
        self._clock, self._id_source, self._validate = clock, id_source, validate
        self._monotonic, self._mono_open = monotonic, monotonic()
        self._lock = threading.Lock()
        self._conn = connect(path)
        self._room = DiskRoom(path, limits.min_free_bytes, limits.reserve_bytes)
        self._room.ensure_reserve()
        self._db = sqlite_utils.Database(self._conn)
        with self._guard():
            self._migrate(path)
            self.boot = self._meta("boot") + 1
            self._run_base = self._meta("run_ms") / 1000.0
            with self._conn:
                self._set_meta("boot", self.boot)
                # rows from before the run clock existed count from now
                self._conn.execute("UPDATE pending SET run_created = ? WHERE run_created IS NULL", (self._run_base,))
                # a monotonic reading of an earlier boot means nothing now: re-send those at once
                self._conn.execute("UPDATE pending SET state = ? WHERE state = ?",
                                   (RowState.QUEUED, RowState.AWAITING_RECEIPT))
            self._seq = self._meta("seq")
            self._pending, self._pending_bytes = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM pending").fetchone()

    # -- storage helpers -------------------------------------------------------------------------
    def _migrate(self, path: Path) -> None:
        try:
            migrate(self._db, SCHEMA, path)
        except SchemaError:   # e.g. written by a newer release: refused, left as it is
            self._conn.close()
            raise

    def _guard(self):
        return Guarded(self._lock)

    def _meta(self, key: str) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _now(self) -> float:
        return self._clock().timestamp()

    def _run_now(self) -> float:
        """Seconds the outbox has been running, over all boots (never steps back)."""
        return self._run_base + max(0.0, self._monotonic() - self._mono_open)

    def _set_run_meta(self, run_now: float) -> None:
        self._set_meta("run_ms", int(run_now * 1000))

    # -- adding ----------------------------------------------------------------------------------
    def add(self, kind: MessageKind, data: dict[str, Any], *, correlation: bytes | None = None,
            topic: str | None = None, msg_id: uuid.UUID | None = None) -> Envelope:
        """Stored durably before return; raises OutboxFull at the bound (never drops silently).

        `msg_id` given (an idempotency key, e.g. stats per period): a message already on record
        under it is not stored again, and its stored envelope is returned."""
        with self._guard():
            known = self._known(kind, str(msg_id)) if msg_id is not None else None
            if known is not None:
                return known
            now = self._clock()
            seq = self._seq + 1
            message = contract.build(self.identity, kind, data, msg_id=msg_id or self._id_source(), seq=seq,
                                     boot=self.boot, now=now)
            if self._validate:
                validate_message(kind, message)
            payload = contract.encode(message)
            self._check_room(kind, len(payload))
            topic = topic or self.identity.topic(kind)
            self._insert(kind, message["msg_id"], seq, topic, payload, correlation, now.timestamp(),
                         txn_id=_crossing_txn(kind, data))
            self._seq, self._pending, self._pending_bytes = seq, self._pending + 1, self._pending_bytes + len(payload)
            return Envelope(kind, message["msg_id"], seq, topic, payload)

    def _known(self, kind: MessageKind, msg_id: str) -> Envelope | None:
        row = self._conn.execute("SELECT seq, topic, payload FROM pending WHERE msg_id = ?", (msg_id,)).fetchone()
        if row is not None:
            return Envelope(kind, msg_id, row[0], row[1], bytes(row[2]))
        row = self._conn.execute("SELECT seq FROM sent WHERE msg_id = ? UNION ALL "
                                 "SELECT seq FROM dead_letter WHERE msg_id = ?", (msg_id, msg_id)).fetchone()
        return None if row is None else Envelope(kind, msg_id, row[0], self.identity.topic(kind), b"")

    def stamp(self, kind: MessageKind, data: dict[str, Any]) -> Envelope:
        """An envelope with its own persisted seq that is NOT queued: the Last Will (the broker sends it)."""
        with self._guard():
            seq = self._seq + 1
            message = contract.build(self.identity, kind, data, msg_id=self._id_source(), seq=seq,
                                     boot=self.boot, now=self._clock())
            validate_message(kind, message)
            with self._conn:
                self._set_meta("seq", seq)
            self._seq = seq
            return Envelope(kind, message["msg_id"], seq, self.identity.topic(kind), contract.encode(message))

    def add_stamped(self, stamped: Envelope) -> None:
        """Queue an envelope made by `stamp` (the Last Will, published by the gate itself at a clean stop)."""
        with self._guard():
            if self._conn.execute("SELECT 1 FROM pending WHERE msg_id = ?", (stamped.msg_id,)).fetchone():
                return
            self._check_room(stamped.kind, len(stamped.payload))
            self._insert(stamped.kind, stamped.msg_id, max(self._seq, stamped.seq), stamped.topic, stamped.payload,
                         None, self._now(), seq_of_row=stamped.seq)
            self._pending, self._pending_bytes = self._pending + 1, self._pending_bytes + len(stamped.payload)

    def _check_room(self, kind: MessageKind, size: int) -> None:
        limit = self.limits.max_messages
        if kind.priority < Priority.EVENT:
            limit += self.limits.reserve_messages
        if self._pending >= limit:
            raise OutboxFull("messages", self._pending)
        if self._pending_bytes + size > self.limits.max_bytes and kind.priority >= Priority.EVENT:
            raise OutboxFull("bytes", self._pending)
        if kind.priority >= Priority.EVENT and self._oldest_age() > self.limits.max_age_s:
            raise OutboxFull("age", self._pending)
        if kind.priority >= Priority.EVENT:
            self._room.ensure_reserve()
            if self._room.short_for_events(self._conn):
                raise OutboxFull("disk", self._pending)

    def _commit(self, work, *, reserved: bool = True) -> None:
        """One transaction; on a full disk, `reserved` work (status, alarms, acks) gets the reserve."""
        try:
            with self._conn:
                work()
        except sqlite3.Error as exc:
            if not (reserved and is_disk_full(exc) and self._room.release()):
                raise
            with self._conn:
                work()

    def _oldest_age(self) -> float:
        run_now = self._run_now()
        row = self._conn.execute("SELECT MIN(run_created) FROM pending").fetchone()
        return max(0.0, run_now - row[0]) if row and row[0] is not None else 0.0

    def _insert(self, kind, msg_id, seq, topic, payload, correlation, created, seq_of_row=None,
                txn_id=None) -> None:
        """`seq` is the device counter to persist; `seq_of_row` the message's own when it was stamped earlier."""
        run_now = self._run_now()

        def work():
            self._set_meta("seq", seq)
            self._set_run_meta(run_now)
            self._conn.execute(
                "INSERT INTO pending(msg_id, kind, seq, topic, priority, retain, payload, correlation, created,"
                " run_created, state, txn_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg_id, kind.name, seq_of_row or seq, topic, int(kind.priority), int(kind.retained), payload,
                 correlation, created, run_now, RowState.QUEUED, txn_id))
        try:
            self._commit(work, reserved=kind.priority < Priority.EVENT)
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot store message: {exc}") from exc

    # -- draining --------------------------------------------------------------------------------
    def next_batch(self, limit: int, skip: Iterable[str] = ()) -> list[PendingMessage]:
        """Records left unreceipted past the timeout first (oldest PUBACK first), then queued ones,
        oldest first within priority (status and alarms before events); `skip` = already in flight."""
        skip = set(skip)
        columns = "msg_id, kind, seq, topic, payload, retain, correlation, priority"
        with self._guard():
            rows = []
            timeout = self.limits.receipt_timeout_s
            if timeout is not None:
                rows = self._conn.execute(
                    f"SELECT {columns} FROM pending WHERE state = ? AND acked_mono <= ? ORDER BY acked_mono LIMIT ?",
                    (RowState.AWAITING_RECEIPT, self._monotonic() - timeout, limit + len(skip))).fetchall()
            rows += self._conn.execute(f"SELECT {columns} FROM pending WHERE state = ? ORDER BY priority, id LIMIT ?",
                                       (RowState.QUEUED, limit + len(skip))).fetchall()
        return [pending_from_row(r) for r in rows if r[0] not in skip][:limit]

    def mark_sent(self, msg_ids: Iterable[str]) -> int:
        """PUBACKed messages (one transaction for the whole batch): retained ones, or all when no
        receipts are expected, leave `pending`; the others wait for their receipt. Counts both."""
        ids = list(msg_ids)
        if not ids:
            return 0
        with self._guard():
            result: list = []

            def work():
                result[:] = [self._await_receipts(ids), self._move_to_sent(ids, self._now())]
            try:
                self._commit(work)
            except sqlite3.Error as exc:
                raise OutboxError(f"cannot mark messages sent: {exc}") from exc
            waiting, moved = result
            self._pending -= moved[0]
            self._pending_bytes -= moved[1]
            return moved[0] + waiting

    def receipted(self, msg_ids: Iterable[str]) -> int:
        """The BMIS stored these durably: they leave `pending` whatever their state. Unknown ids
        (already receipted, or not ours) are ignored; returns how many left."""
        ids = list(dict.fromkeys(msg_ids))
        if not ids:
            return 0
        with self._guard():
            result: list = []

            def work():
                result[:] = [self._move_to_sent(ids, self._now(), queued_only=False)]
            try:
                self._commit(work)
            except sqlite3.Error as exc:
                raise OutboxError(f"cannot record a receipt: {exc}") from exc
            moved = result[0]
            self._pending -= moved[0]
            self._pending_bytes -= moved[1]
            return moved[0]

    def _await_receipts(self, ids: list[str]) -> int:
        if self.limits.receipt_timeout_s is None:
            return 0
        marks = ",".join("?" * len(ids))
        return self._conn.execute(
            f"UPDATE pending SET state = ?, acked_at = ?, acked_mono = ? WHERE retain = 0 AND msg_id IN ({marks})",
            (RowState.AWAITING_RECEIPT, self._now(), self._monotonic(), *ids)).rowcount

    def _move_to_sent(self, ids: list[str], now: float, queued_only: bool = True) -> tuple[int, int]:
        """Inside the caller's transaction. With `queued_only`, rows waiting for a receipt stay."""
        marks = ",".join("?" * len(ids))
        where = f"msg_id IN ({marks})" + (" AND state = ?" if queued_only else "")
        args = [*ids, RowState.QUEUED] if queued_only else ids
        rows = self._conn.execute(f"SELECT msg_id, kind, seq, LENGTH(payload), txn_id FROM pending WHERE {where}",
                                  args).fetchall()
        self._conn.executemany("INSERT INTO sent(msg_id, kind, seq, acked_at, txn_id) VALUES (?, ?, ?, ?, ?)",
                               [(r[0], r[1], r[2], now, r[4]) for r in rows])
        self._conn.execute(f"DELETE FROM pending WHERE {where}", args)
        self._set_run_meta(self._run_now())
        self._prune_sent()
        return len(rows), sum(r[3] for r in rows)

    def _prune_sent(self) -> None:
        self._conn.execute("DELETE FROM sent WHERE id <= (SELECT MAX(id) FROM sent) - ?",
                           (self.limits.sent_log_keep,))

    def _prune_dead_letters(self) -> None:
        """Keep the newest within the count and byte bounds; the number dropped stays on record."""
        rows = self._conn.execute("SELECT rowid, LENGTH(payload) FROM dead_letter ORDER BY rowid DESC").fetchall()
        kept_bytes, drop = 0, []
        for index, (rowid, size) in enumerate(rows):
            kept_bytes += size
            if index >= self.limits.dead_letter_keep or kept_bytes > self.limits.dead_letter_max_bytes:
                drop.append(rowid)
        if drop:
            self._conn.executemany("DELETE FROM dead_letter WHERE rowid = ?", [(r,) for r in drop])
            self._set_meta("dead_letters_dropped", self._meta("dead_letters_dropped") + len(drop))

    def dead_letter(self, msg_id: str, reason_code: int, reason: str) -> PendingMessage | None:
        """A refused message moves to `dead_letter` (kept for an operator); None if it was not pending."""
        with self._guard():
            row = self._conn.execute(
                "SELECT msg_id, kind, seq, topic, payload, retain, correlation, priority FROM pending WHERE msg_id = ?",
                (msg_id,)).fetchone()
            if row is None:
                return None
            def work():
                self._conn.execute("INSERT OR REPLACE INTO dead_letter VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                   (row[0], row[1], row[2], row[3], row[4], reason_code, reason, self._now()))
                self._conn.execute("DELETE FROM pending WHERE msg_id = ?", (msg_id,))
                self._prune_dead_letters()
            try:
                self._commit(work)
            except sqlite3.Error as exc:
                raise OutboxError(f"cannot dead-letter message: {exc}") from exc
            self._pending, self._pending_bytes = self._pending - 1, self._pending_bytes - len(row[4])
        return pending_from_row(row)

    def dead_letter_incoming(self, topic: str, reason_code: int, reason: str) -> str:
        """An incoming message acknowledged without being handled, on record once (without its payload)."""
        msg_id = f"in-{self._id_source()}"

        def work():
            self._conn.execute("INSERT INTO dead_letter VALUES (?, 'INCOMING', 0, ?, x'', ?, ?, ?)",
                               (msg_id, topic[:256], reason_code, reason[:256], self._now()))
            self._prune_dead_letters()
        with self._guard():
            self._commit(work)
        return msg_id

    # -- inspection ------------------------------------------------------------------------------
    def counts(self) -> OutboxCounts:
        with self._guard():
            dead = self._conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0]
            waiting, oldest_ack = self._conn.execute(
                "SELECT COUNT(*), MIN(acked_mono) FROM pending WHERE state = ?",
                (RowState.AWAITING_RECEIPT,)).fetchone()
            unreceipted_age = 0.0 if oldest_ack is None else max(0.0, self._monotonic() - oldest_ack)
            return OutboxCounts(self._pending - waiting, self._pending_bytes, dead, self._oldest_age(), waiting,
                                unreceipted_age)

    def has_crossing(self, txn_id: str) -> bool:
        """A crossing of this transaction was stored (still kept, or already receipted)."""
        with self._guard():
            return any(self._conn.execute(f"SELECT 1 FROM {table} WHERE txn_id = ? LIMIT 1", (txn_id,)).fetchone()
                       for table in ("pending", "sent"))

    def sent_ids(self) -> list[str]:
        with self._guard():
            return [r[0] for r in self._conn.execute("SELECT msg_id FROM sent ORDER BY id")]

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._guard():
            rows = self._conn.execute("SELECT msg_id, kind, seq, topic, reason_code, reason FROM dead_letter")
            return [dict(zip(("msg_id", "kind", "seq", "topic", "reason_code", "reason"), r)) for r in rows]

    def count_of_kind(self, kind: MessageKind) -> int:
        """Messages of `kind` ever queued and still on record (pending, sent log, dead letters)."""
        with self._guard():
            return sum(self._conn.execute(f"SELECT COUNT(*) FROM {table} WHERE kind = ?", (kind.name,)).fetchone()[0]
                       for table in ("pending", "sent", "dead_letter"))

    @property
    def last_seq(self) -> int:
        return self._seq

    def close(self) -> None:
        with self._guard():
            self._conn.close()


def _crossing_txn(kind: MessageKind, data: dict[str, Any]) -> str | None:
    """Crossings are findable by transaction: the lane's restart check asks before voiding one."""
    txn_id = data.get("transaction_id") if kind is MessageKind.CROSSING else None
    return txn_id if isinstance(txn_id, str) else None


def uuid4_source() -> uuid.UUID:
    """The production id source (injected into the outbox)."""
    return uuid.uuid4()
