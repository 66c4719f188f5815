"""The local transaction journal (SQLite): which transactions began and which ended.

A row is written when a transaction begins and closed when it ends. After a crash or power cut,
rows still open are transactions the lane never finished: at start they are voided and reported.
Only ids, times and outcomes are kept here: no personal data.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from firmware_app.storage import Migration, Schema, migrate

from .errors import LaneJournalError

MAX_ROWS = 50_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lane_transactions (
  txn_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, outcome TEXT);
CREATE INDEX IF NOT EXISTS lane_transactions_open ON lane_transactions (ended_at);
"""
SCHEMA = Schema("lane journal", (Migration.sql(1, "baseline", _SCHEMA),))
VOIDED_ON_START = "voided_on_start"
RECORDED_BEFORE_RESTART = "recorded_before_restart"   # its crossing reached the outbox, the close did not


@dataclass(frozen=True)
class OpenTransaction:
    txn_id: str
    started_at: str


class LaneJournal:
    def __init__(self, db: sqlite_utils.Database, path: str | Path | None = None):
        self._db = db
        try:
            migrate(db, SCHEMA, path)
        except sqlite3.Error as exc:
            raise LaneJournalError(f"lane journal: {exc}") from None

    @classmethod
    def open(cls, path: str | Path) -> LaneJournal:
        try:
            db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False, timeout=10))
            db.enable_wal()
            db.execute("PRAGMA synchronous=FULL")   # a begun transaction must survive a power cut
        except sqlite3.Error as exc:
            raise LaneJournalError(f"cannot open lane journal {path}: {exc}") from None
        return cls(db, path)

    @classmethod
    def in_memory(cls) -> LaneJournal:
        return cls(sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False)))

    def _guard(self, work):
        try:
            with self._db.atomic():
                return work()
        except sqlite3.Error as exc:
            raise LaneJournalError(f"lane journal: {exc}") from None

    def begin(self, txn_id: str, started_at: datetime) -> None:
        self._guard(lambda: self._db.execute(
            "INSERT OR REPLACE INTO lane_transactions (txn_id, started_at) VALUES (?, ?)",
            [txn_id, started_at.isoformat()]))

    def end(self, txn_id: str, ended_at: datetime, outcome: str = "ended") -> None:
        def write():
            self._db.execute("UPDATE lane_transactions SET ended_at = ?, outcome = ? WHERE txn_id = ?",
                             [ended_at.isoformat(), outcome, txn_id])
            self._db.execute("DELETE FROM lane_transactions WHERE ended_at IS NOT NULL AND rowid <= "
                             "(SELECT max(rowid) FROM lane_transactions) - ?", [MAX_ROWS])
        self._guard(write)

    def open_transactions(self) -> list[OpenTransaction]:
        rows = self._guard(lambda: self._db.execute(
            "SELECT txn_id, started_at FROM lane_transactions WHERE ended_at IS NULL ORDER BY started_at"
        ).fetchall())
        return [OpenTransaction(*row) for row in rows]

    def void_open(self, now: datetime, report: Callable[[OpenTransaction], bool | str] = lambda txn: True
                  ) -> list[OpenTransaction]:
        """Close every unfinished transaction once `report` has dealt with it: True closes it as
        voided, a string closes it with that outcome (e.g. its crossing was stored just before the
        crash); False leaves it open, to be dealt with at the next start."""
        found = self.open_transactions()
        for txn in found:
            verdict = report(txn)
            if verdict:
                self.end(txn.txn_id, now, verdict if isinstance(verdict, str) else VOIDED_ON_START)
        return found

    def outcome(self, txn_id: str) -> str | None:
        row = self._guard(lambda: self._db.execute(
            "SELECT outcome FROM lane_transactions WHERE txn_id = ?", [txn_id]).fetchone())
        return row[0] if row else None
