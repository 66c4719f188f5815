"""The outbox's SQLite file: opening, tables and their migrations, the lock around the shared
connection, the read-only summary for technicians, and room on its disk.

Room on the outbox's disk: free space checked before events are stored, and a reserve file.

The outbox must never fill its own disk: a full disk cannot even commit an acknowledgement (each
PUBACK batch needs WAL space), so a backlog would stay pending for good. Events are refused
(OutboxFull "disk") while the filesystem still has `min_free_bytes` plus room for the WAL to grow
to its checkpoint size. When something else fills the disk, the reserve file beside the outbox
(`reserve_bytes`, allocated up front) is given up so status, alarms and acknowledgements can
still be committed; it is allocated again once there is room.
"""
from __future__ import annotations

import enum
import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from firmware_app.storage import Migration, Schema
from firmware_app.storage.schema import check_readable

from ..errors import OutboxError

log = logging.getLogger(__name__)
WAL_MARGIN_PAGES = 256      # one large transaction on top of the checkpoint threshold


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's 'database or disk is full' (or an I/O error from ENOSPC)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) or 0   # set only on errors SQLite itself raised
        return code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


class DiskRoom:
    def __init__(self, db_path: Path, min_free_bytes: int, reserve_bytes: int,
                 statvfs: Callable[[str], os.statvfs_result] = os.statvfs):
        self.db_path, self.min_free_bytes, self.reserve_bytes = db_path, min_free_bytes, reserve_bytes
        self.reserve_path = db_path.with_name(db_path.name + ".reserve")
        self._statvfs = statvfs
        self._pages: tuple[int, int] | None = None     # page size, WAL pages before a checkpoint

    def _page_info(self, conn: sqlite3.Connection) -> tuple[int, int]:
        if self._pages is None:     # fixed for the life of the connection
            self._pages = (conn.execute("PRAGMA page_size").fetchone()[0],
                           conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] + WAL_MARGIN_PAGES)
        return self._pages

    def free_bytes(self) -> int:
        stats = self._statvfs(str(self.db_path.parent))
        return stats.f_bavail * stats.f_frsize

    def wal_allowance(self, conn: sqlite3.Connection) -> int:
        """Bytes the WAL may still grow by before its next checkpoint lets it start over."""
        page_size, pages = self._page_info(conn)
        wal = self.db_path.with_name(self.db_path.name + "-wal")
        size = wal.stat().st_size if wal.exists() else 0
        return max(0, pages * page_size - size)

    def short_for_events(self, conn: sqlite3.Connection) -> bool:
        """True when storing another event would eat into what status, alarms and acks need.
        Pages the database freed (acknowledged messages) count as room: SQLite reuses them."""
        missing_reserve = 0 if self.reserve_path.exists() else self.reserve_bytes
        free_pages = conn.execute("PRAGMA freelist_count").fetchone()[0] * self._page_info(conn)[0]
        return self.free_bytes() + free_pages < self.min_free_bytes + self.wal_allowance(conn) + missing_reserve

    def ensure_reserve(self) -> bool:
        """Allocate the reserve when it is missing and the disk has room for it; True if present."""
        if self.reserve_bytes <= 0 or self.reserve_path.exists():
            return True
        if self.free_bytes() < self.min_free_bytes + 2 * self.reserve_bytes:
            return False
        try:
            fd = os.open(self.reserve_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        except OSError as exc:
            log.warning("outbox disk reserve not allocated: %s", exc.strerror)
            self.reserve_path.unlink(missing_ok=True)
            return False

    def release(self) -> bool:
        """Give the reserve back to the filesystem; True when there was one to give."""
        try:
            self.reserve_path.unlink()
        except FileNotFoundError:
            return False
        log.error("disk full: outbox reserve of %d bytes released for status, alarms and acknowledgements",
                  self.reserve_bytes)
        return True


class RowState(enum.IntEnum):
    QUEUED = 0              # not acknowledged by the broker yet
    AWAITING_RECEIPT = 1    # PUBACKed; kept until the BMIS receipts it



def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn
    except (OSError, sqlite3.Error) as exc:
        raise OutboxError(f"cannot open outbox {path}: {exc}") from exc


def create_tables(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": int}, pk="key", if_not_exists=True)
    db.table("pending").create({"id": int, "msg_id": str, "kind": str, "seq": int, "topic": str, "priority": int,
                          "retain": int, "payload": bytes, "correlation": bytes, "created": float},
                         pk="id", if_not_exists=True)
    db.table("pending").create_index(["priority", "id"], if_not_exists=True)
    db.table("pending").create_index(["msg_id"], unique=True, if_not_exists=True)
    _add_run_created(db)
    db.table("dead_letter").create({"msg_id": str, "kind": str, "seq": int, "topic": str, "payload": bytes,
                              "reason_code": int, "reason": str, "failed_at": float}, pk="msg_id",
                             if_not_exists=True)
    db.table("sent").create({"id": int, "msg_id": str, "kind": str, "seq": int, "acked_at": float}, pk="id",
                      if_not_exists=True)
    _add_receipt_columns(db)


def _add_receipt_columns(db: sqlite_utils.Database) -> None:
    """Outboxes written before receipts existed gain the columns (their rows count as queued)."""
    have = {column.name for column in db.table("pending").columns}
    for name, kind in (("state", int), ("acked_at", float), ("acked_mono", float), ("txn_id", str)):
        if name not in have:
            db.table("pending").add_column(name, kind, not_null_default=0 if name == "state" else None)
    if "txn_id" not in {column.name for column in db.table("sent").columns}:
        db.table("sent").add_column("txn_id", str)
    db.table("pending").create_index(["state", "priority", "id"], if_not_exists=True)
    db.table("pending").create_index(["state", "acked_mono"], if_not_exists=True)
    db.table("pending").create_index(["txn_id"], if_not_exists=True)
    db.table("sent").create_index(["txn_id"], if_not_exists=True)


def _add_run_created(db: sqlite_utils.Database) -> None:
    """`run_created`: the run clock when the row was stored (age bound checked on every add)."""
    if "run_created" not in db.table("pending").columns_dict:
        db.execute("ALTER TABLE pending ADD COLUMN run_created REAL")
    db.table("pending").create_index(["run_created"], if_not_exists=True)


# Version 1 is the schema as it stood when versions came in (it also completes older files).
SCHEMA = Schema("outbox", (Migration(1, "baseline", create_tables),))



def inspect_outbox(path: Path, now: float) -> dict[str, Any]:
    """Read-only summary for technicians (`gatectl outbox`); opening an Outbox would count a boot.
    The oldest age is on the run clock as of the outbox's last write (`now` is for older files)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check_readable(conn, SCHEMA, path)
            return _summary(conn, now)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise OutboxError(f"cannot read outbox {path}: {exc}") from exc


def _summary(conn: sqlite3.Connection, now: float) -> dict[str, Any]:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    pending, size, oldest = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), MIN(created) FROM pending").fetchone()
    oldest_age = 0.0 if oldest is None else max(0.0, now - oldest)
    if "run_ms" in meta and oldest is not None:
        oldest_run = conn.execute("SELECT MIN(run_created) FROM pending").fetchone()[0]
        oldest_age = max(0.0, meta["run_ms"] / 1000.0 - (oldest_run or 0.0))
    waiting, oldest_ack = _unreceipted(conn)
    by_kind = dict(conn.execute("SELECT kind, COUNT(*) FROM pending GROUP BY kind").fetchall())
    dead = [dict(zip(("msg_id", "kind", "seq", "topic", "reason_code", "reason"), row)) for row in conn.execute(
        "SELECT msg_id, kind, seq, topic, reason_code, reason FROM dead_letter ORDER BY failed_at")]
    return {"boot": meta.get("boot", 0), "last_seq": meta.get("seq", 0), "pending": pending - waiting,
            "pending_bytes": size, "pending_by_kind": by_kind,
            "oldest_pending_age_s": oldest_age, "unreceipted": waiting,
            "oldest_unreceipted_age_s": 0.0 if oldest_ack is None else max(0.0, now - oldest_ack),
            "dead_letters_dropped": meta.get("dead_letters_dropped", 0),
            "dead_letters": dead}


def _unreceipted(conn: sqlite3.Connection) -> tuple[int, float | None]:
    """Count and oldest PUBACK time (wall clock: another process reads it) of unreceipted records."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(pending)")}
    if "state" not in columns:     # an outbox from before receipts, opened read-only
        return 0, None
    return conn.execute("SELECT COUNT(*), MIN(acked_at) FROM pending WHERE state = ?",
                        (RowState.AWAITING_RECEIPT,)).fetchone()



class Guarded:
    """The connection is shared by the lane thread and the MQTT thread: one lock, SQLite errors typed."""

    def __init__(self, lock: threading.Lock):
        self._lock = lock

    def __enter__(self):
        self._lock.acquire()

    def __exit__(self, exc_type, exc, tb):
        self._lock.release()
        if exc_type is not None and issubclass(exc_type, sqlite3.Error):
            raise OutboxError(f"outbox database error: {exc}") from exc
        return False


