"""The officer console's audit trail (SQLite): who logged in, and who decided what, when, for
which transaction, and whether the lane was still waiting for that answer.

One row per event; nothing personal beyond the officer's own id and the transaction id (the
traveller's data stays in the crossing record). WAL + synchronous=FULL like the lane journal: a
decision that opened a door must be on disk. Rows older than the newest MAX_ROWS are pruned.
"""
from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from firmware_app.storage.schema import Migration, Schema, migrate

from .errors import OfficerAuditError

MAX_ROWS = 200_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS officer_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, officer TEXT NOT NULL, action TEXT NOT NULL,
  txn_id TEXT, verdict TEXT, applied INTEGER, peer TEXT);
CREATE INDEX IF NOT EXISTS officer_audit_txn ON officer_audit (txn_id);
"""
AUDIT_SCHEMA = Schema("officer audit", (Migration.sql(1, "officer_audit table", _SCHEMA),))


class AuditAction(str, enum.Enum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"       # a login attempt while the name is locked
    LOGOUT = "logout"
    DECISION = "decision"           # `applied`: the lane was waiting for it (else stale, ignored)


@dataclass(frozen=True)
class AuditRow:
    at: str
    officer: str
    action: AuditAction
    txn_id: str | None
    verdict: str | None
    applied: bool | None
    peer: str


class OfficerAudit:
    def __init__(self, connection: sqlite3.Connection, clock: Callable[[], datetime]):
        self._db, self._clock = connection, clock
        self._lock = threading.Lock()
        self._guard(lambda: migrate(self._db, AUDIT_SCHEMA))

    @classmethod
    def open(cls, path: str | Path, clock: Callable[[], datetime]) -> OfficerAudit:
        try:
            db = sqlite3.connect(str(path), check_same_thread=False, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise OfficerAuditError(f"cannot open the officer audit {path}: {exc}") from None
        return cls(db, clock)

    def _guard(self, work):
        try:
            with self._lock:
                return work()
        except sqlite3.Error as exc:
            raise OfficerAuditError(f"officer audit: {type(exc).__name__}: {exc}") from None

    def record(self, officer: str, action: AuditAction, *, txn_id: str | None = None, verdict: str | None = None,
               applied: bool | None = None, peer: str = "") -> None:
        row = (self._clock().isoformat(), officer[:64], action.value, txn_id, verdict,
               None if applied is None else int(applied), peer[:64])

        def write():
            self._db.execute("INSERT INTO officer_audit (at, officer, action, txn_id, verdict, applied, peer) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            self._db.execute("DELETE FROM officer_audit WHERE id <= (SELECT MAX(id) FROM officer_audit) - ?",
                             (MAX_ROWS,))
        self._guard(write)

    def rows(self, txn_id: str | None = None, limit: int = 1000) -> list[AuditRow]:
        where, args = ("WHERE txn_id = ?", (txn_id, limit)) if txn_id else ("", (limit,))
        query = f"SELECT at, officer, action, txn_id, verdict, applied, peer FROM officer_audit {where} " \
                "ORDER BY id LIMIT ?"
        found = self._guard(lambda: self._db.execute(query, args).fetchall())
        return [AuditRow(at, officer, AuditAction(action), txn, verdict, None if applied is None else bool(applied),
                         peer) for at, officer, action, txn, verdict, applied, peer in found]

    def close(self) -> None:
        self._guard(self._db.close)
