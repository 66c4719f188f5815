"""The command journal (SQLite): replay guard and audit trail of BMIS commands.

Replay guard: every command that passed its signature and time checks is remembered by
`command_id` with a digest of its payload until it expires (a command's lifetime is bounded, so
the table is too). The same command delivered again (MQTT QoS 1 may redeliver) gets its first
answer back and has no second effect; the same id with other content is a replay attempt.

Audit: one row per security-relevant command, accepted or refused (who, what, which key, result).
Operator ids are staff identifiers: kept here, not logged above DEBUG.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from .command_errors import BmisCommandError
from .sqlite_files import Serialized, in_memory_database, open_wal_database

MAX_AUDIT_ROWS = 100_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_commands (
  command_id TEXT PRIMARY KEY, digest TEXT NOT NULL, expires_at TEXT NOT NULL, result TEXT);
CREATE INDEX IF NOT EXISTS seen_commands_expiry ON seen_commands (expires_at);
CREATE TABLE IF NOT EXISTS command_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, command_id TEXT, command TEXT,
  operator_id TEXT, key_id TEXT, status TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
"""


class JournalError(BmisCommandError):
    """The command journal cannot be read or written: commands are refused, not run unguarded."""


@dataclass(frozen=True)
class AuditEntry:
    time: str
    command_id: str | None
    command: str | None
    operator_id: str | None
    key_id: str | None
    status: str
    reason: str
    detail: str


@dataclass(frozen=True)
class SeenCommand:
    digest: str
    result: dict | None      # None: the first delivery did not finish (crash while running)


class CommandJournal:
    def __init__(self, db: sqlite_utils.Database):
        self._db = db
        self._guard = Serialized(db, JournalError, "command journal")
        self._guard(lambda: self._db.executescript(_SCHEMA))

    @classmethod
    def open(cls, path: str | Path) -> CommandJournal:
        try:
            db = open_wal_database(path, synchronous_full=True)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open command journal {path}: {exc}") from None
        return cls(db)

    @classmethod
    def in_memory(cls) -> CommandJournal:
        return cls(in_memory_database())

    def seen(self, command_id: str) -> SeenCommand | None:
        row = self._guard(lambda: self._db.execute(
            "SELECT digest, result FROM seen_commands WHERE command_id = ?", [command_id]).fetchone())
        if row is None:
            return None
        return SeenCommand(row[0], json.loads(row[1]) if row[1] else None)

    def claim(self, command_id: str, digest: str, expires_at: datetime) -> None:
        """Record the command before it runs, so a crash mid-way cannot lead to a second run."""
        self._guard(lambda: self._db.execute(
            "INSERT INTO seen_commands (command_id, digest, expires_at) VALUES (?, ?, ?)",
            [command_id, digest, expires_at.isoformat()]))

    def finish(self, command_id: str, result: dict) -> None:
        self._guard(lambda: self._db.execute(
            "UPDATE seen_commands SET result = ? WHERE command_id = ?",
            [json.dumps(result, sort_keys=True), command_id]))

    def prune(self, now: datetime) -> int:
        """Forget commands that expired: they are refused as expired before the guard is asked."""
        return self._guard(lambda: self._db.execute(
            "DELETE FROM seen_commands WHERE expires_at < ?", [now.isoformat()]).rowcount)

    def audit(self, entry: AuditEntry) -> None:
        def write():
            self._db.execute(
                "INSERT INTO command_audit (time, command_id, command, operator_id, key_id, status,"
                " reason, detail) VALUES (:time, :command_id, :command, :operator_id, :key_id,"
                " :status, :reason, :detail)", asdict(entry))
            self._db.execute("DELETE FROM command_audit WHERE id <= (SELECT max(id) FROM command_audit) - ?",
                             [MAX_AUDIT_ROWS])
        self._guard(write)

    def audit_rows(self, limit: int = 100) -> list[dict]:
        """Newest first."""
        return self._guard(lambda: list(self._db.query(
            "SELECT time, command_id, command, operator_id, key_id, status, reason, detail "
            "FROM command_audit ORDER BY id DESC LIMIT ?", [limit])))

    def close(self) -> None:
        self._db.close()
