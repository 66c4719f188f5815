"""The command journal (SQLite): replay guard and audit trail of BMIS commands.

Replay guard: every security command that passed its signature and time checks is remembered by
`command_id` with a digest of its payload. The same command delivered again (MQTT QoS 1 may
redeliver) gets its first answer back and has no second effect; the same id with other content is
a replay attempt. Read-only commands (request-status) never enter the journal.

An id is forgotten only when BOTH its expiry has passed on the wall clock (less the allowed skew)
AND its remaining lifetime at the claim (plus the skew) has elapsed on the journal's steady clock:
the monotonic clock within a process, continued across restarts from the value persisted here
(time switched off is not counted, so ids are kept longer, never shorter). The operator can step
the wall clock but not the steady one. The highest expiry ever forgotten is persisted too
(`forgotten_until`): a command expiring at or before it might be a forgotten one, so it is refused
whatever the wall clock says (the processor answers `clock_untrusted`).

Audit: one row per security-relevant command, accepted or refused (who, what, which key, result).
Operator ids are staff identifiers: kept here, not logged above DEBUG.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from firmware_app.storage import Migration, Schema, migrate

from ..errors import JournalError
from ..sqlite_files import Serialized, in_memory_database, open_wal_database

MAX_AUDIT_ROWS = 100_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_commands (
  command_id TEXT PRIMARY KEY, digest TEXT NOT NULL, expires_at TEXT NOT NULL, result TEXT);
CREATE INDEX IF NOT EXISTS seen_commands_expiry ON seen_commands (expires_at);
CREATE TABLE IF NOT EXISTS guard_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, command_id TEXT, command TEXT,
  operator_id TEXT, key_id TEXT, status TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
"""


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


def _baseline(db: sqlite_utils.Database) -> None:
    db.executescript(_SCHEMA)
    if "keep_until_steady" not in {c.name for c in db["seen_commands"].columns}:
        db.execute("ALTER TABLE seen_commands ADD COLUMN keep_until_steady REAL")


SCHEMA = Schema("command journal", (Migration(1, "baseline", _baseline),))


class CommandJournal:
    def __init__(self, db: sqlite_utils.Database, monotonic: Callable[[], float] = time.monotonic):
        self._db, self._monotonic = db, monotonic
        self._guard = Serialized(db, JournalError, "command journal")
        try:
            migrate(db, SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"command journal: {exc}") from None
        self._steady_base = float(self._meta("steady_s", "0"))
        self._started = monotonic()

    @classmethod
    def open(cls, path: str | Path, monotonic: Callable[[], float] = time.monotonic) -> CommandJournal:
        try:
            db = open_wal_database(path, synchronous_full=True)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open command journal {path}: {exc}") from None
        return cls(db, monotonic)

    @classmethod
    def in_memory(cls, monotonic: Callable[[], float] = time.monotonic) -> CommandJournal:
        return cls(in_memory_database(), monotonic)

    # -- the steady clock and the forgotten-expiry mark (inside the caller's transaction) ---------
    def _meta(self, key: str, default: str) -> str:
        row = self._guard(lambda: self._db.execute("SELECT value FROM guard_meta WHERE key = ?", [key]).fetchone())
        return row[0] if row else default

    def _put_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO guard_meta (key, value) VALUES (?, ?)", [key, value])

    def steady(self) -> float:
        """Seconds the journal has been open, over all its starts; never goes back."""
        return self._steady_base + max(0.0, self._monotonic() - self._started)

    def forgotten_until(self) -> datetime | None:
        """The highest expiry among forgotten ids (None: nothing forgotten yet)."""
        value = self._meta("forgotten_until", "")
        return datetime.fromisoformat(value) if value else None

    def seen(self, command_id: str) -> SeenCommand | None:
        row = self._guard(lambda: self._db.execute(
            "SELECT digest, result FROM seen_commands WHERE command_id = ?", [command_id]).fetchone())
        if row is None:
            return None
        return SeenCommand(row[0], json.loads(row[1]) if row[1] else None)

    def claim(self, command_id: str, digest: str, expires_at: datetime, keep_for: timedelta) -> None:
        """Record the command before it runs, so a crash mid-way cannot lead to a second run; it is
        kept at least `keep_for` of steady time."""
        def write():
            steady = self.steady()
            self._put_meta("steady_s", repr(steady))
            self._db.execute(
                "INSERT INTO seen_commands (command_id, digest, expires_at, keep_until_steady) VALUES (?, ?, ?, ?)",
                [command_id, digest, expires_at.isoformat(), steady + max(0.0, keep_for.total_seconds())])
        self._guard(write)

    def finish(self, command_id: str, result: dict) -> None:
        self._guard(lambda: self._db.execute(
            "UPDATE seen_commands SET result = ? WHERE command_id = ?",
            [json.dumps(result, sort_keys=True), command_id]))

    def prune(self, expired_before: datetime) -> int:
        """Forget ids that expired before `expired_before` (wall clock) AND whose steady keep time
        has passed; the highest expiry forgotten is kept (one transaction)."""
        def work():
            steady = self.steady()
            self._put_meta("steady_s", repr(steady))
            where = "expires_at < ? AND COALESCE(keep_until_steady, 0) <= ?"
            args = [expired_before.isoformat(), steady]
            highest = self._db.execute(f"SELECT MAX(expires_at) FROM seen_commands WHERE {where}", args).fetchone()[0]
            if highest is None:
                return 0
            known = self._db.execute("SELECT value FROM guard_meta WHERE key = 'forgotten_until'").fetchone()
            if known is None or datetime.fromisoformat(known[0]) < datetime.fromisoformat(highest):
                self._put_meta("forgotten_until", highest)
            return self._db.execute(f"DELETE FROM seen_commands WHERE {where}", args).rowcount
        return self._guard(work)

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
