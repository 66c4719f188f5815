"""Versioned SQLite schemas: `PRAGMA user_version` names the schema a file holds, and ordered
migrations bring it forward, each in the same transaction as its version bump.

    OUTBOX = Schema("outbox", (Migration(1, "baseline", create_tables), Migration(2, "...", add_x)))
    migrate(conn, OUTBOX)          # 0 -> 1 -> 2; a file at 3 raises SchemaTooNew, untouched

Version 1 of every schema is the baseline: the idempotent creation code the store had before
versions existed, so a file written by an older release (user_version 0, tables present, some
columns perhaps missing) and a new empty file both arrive at 1. A file written by a NEWER release
(after a rollback to an older package) is refused: the older code cannot know what the newer
columns and rows mean, and guessing could lose or misreport records. The updater keeps a copy of
each file from before an update for that case (firmware_app/deploy/state.py).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from firmware_app.errors import GateError

Step = Callable[[sqlite_utils.Database], None]


class SchemaError(GateError):
    """A SQLite file's schema cannot be used by this release."""


class SchemaTooNew(SchemaError):
    """The file was written by a newer release (a downgrade): refused, nothing changed in it."""

    def __init__(self, schema: str, found: int, supported: int, path: str | None = None):
        self.schema, self.found, self.supported, self.path = schema, found, supported, path
        where = f" ({path})" if path else ""
        super().__init__(f"{schema} database{where} has schema version {found}, newer than the {supported} "
                         f"this release supports: it was written by a newer release; install that release "
                         f"again or restore the copy kept by the updater")


class MigrationFailed(SchemaError):
    """A migration step failed; the transaction was rolled back and the file is at `version`."""

    def __init__(self, schema: str, version: int, target: int, cause: str):
        self.schema, self.version, self.target = schema, version, target
        super().__init__(f"{schema} database: migration to version {target} failed ({cause}); "
                         f"left at version {version}")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Step

    @classmethod
    def sql(cls, version: int, name: str, script: str) -> Migration:
        def run(db: sqlite_utils.Database) -> None:
            db.executescript(script)
        return cls(version, name, run)


@dataclass(frozen=True)
class Schema:
    name: str
    migrations: tuple[Migration, ...]

    def __post_init__(self):
        numbers = [m.version for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.name}: migrations must be numbered 1, 2, 3... in order")

    @property
    def version(self) -> int:
        return len(self.migrations)


def read_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_readable(conn: sqlite3.Connection, schema: Schema, path: str | Path | None = None) -> int:
    """For read-only tools: the file's version, or SchemaTooNew (an older file is read as it is)."""
    found = read_version(conn)
    if found > schema.version:
        raise SchemaTooNew(schema.name, found, schema.version, str(path) if path else None)
    return found


def migrate(db: sqlite_utils.Database | sqlite3.Connection, schema: Schema,
            path: str | Path | None = None) -> int:
    """Bring the file to `schema.version`; returns the version it was at. Each step and its version
    bump commit together (BEGIN IMMEDIATE: another process migrating at once waits, then sees the
    new version). Raises SchemaTooNew or MigrationFailed; sqlite3.Error for an unusable file."""
    db = db if isinstance(db, sqlite_utils.Database) else sqlite_utils.Database(db)
    start = check_readable(db.conn, schema, path)
    for migration in schema.migrations[start:]:
        _apply(db, schema, migration, path)
    return start


def _apply(db: sqlite_utils.Database, schema: Schema, migration: Migration, path) -> None:
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = check_readable(conn, schema, path)   # another process may have got here first
        if found < migration.version:
            migration.apply(db)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise MigrationFailed(schema.name, read_version(conn), migration.version,
                                  f"{migration.name}: {exc}") from exc
        raise
