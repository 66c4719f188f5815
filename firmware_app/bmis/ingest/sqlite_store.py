"""SQLite backend: WAL, synchronous=FULL (a committed batch survives a power loss), one writer.

Several workers may share one file on one machine (SQLite serialises the writers); for workers on
several machines use PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from .errors import StoreUnavailable
from .migrations import CREATE_TABLE_SQL, SQLITE_STEPS, pending_steps
from .records import Batch, CommitResult, StoreCounts

_INSERT = ("INSERT INTO messages (msg_id, device_id, post_id, kind, seq, boot, time, topic, body, stored_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(msg_id) DO NOTHING")
_REJECT = "INSERT INTO rejected (topic, reason, detail, stored_at) VALUES (?, ?, ?, ?)"
_BUMP = "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"


class SqliteStore:
    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE takes the write lock).
            self._conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open SQLite store {path}: {exc}") from exc

    def _migrate(self) -> None:
        self._conn.execute(CREATE_TABLE_SQL)
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            applied = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
            for step in pending_steps(SQLITE_STEPS, applied):
                for statement in step.statements:
                    self._conn.execute(statement)
                self._conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                                   (step.version, step.name, dt.datetime.now(dt.UTC).isoformat()))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def commit(self, batch: Batch) -> CommitResult:
        inserted: set[str] = set()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for m in batch.accepted:
                    cursor = self._conn.execute(_INSERT, (m.msg_id, m.device_id, m.post_id, m.kind, m.seq, m.boot,
                                                          m.time, m.topic, m.body, m.stored_at))
                    if cursor.rowcount == 1:
                        inserted.add(m.msg_id)
                self._write_side_rows(batch, len(batch.accepted) - len(inserted))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite commit failed: {exc}") from exc
        return CommitResult(frozenset(inserted), len(batch.accepted) - len(inserted))

    def _write_side_rows(self, batch: Batch, duplicates: int) -> None:
        self._conn.executemany(_REJECT, [(r.topic, r.reason.value, r.detail, r.stored_at) for r in batch.rejected])
        if duplicates:
            self._conn.execute(_BUMP, ("duplicates", duplicates))

    def counts(self) -> StoreCounts:
        messages = self._conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        duplicates = self._conn.execute("SELECT value FROM counters WHERE name = 'duplicates'").fetchone()
        rejected = self._conn.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]
        return StoreCounts(messages, duplicates[0] if duplicates else 0, rejected)

    def msg_ids(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT msg_id FROM messages")]

    def rejections(self) -> list[tuple[str, str]]:
        return list(self._conn.execute("SELECT topic, reason FROM rejected ORDER BY id"))

    def schema_version(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    def close(self) -> None:
        self._conn.close()
