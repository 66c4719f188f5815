"""Staging of an alert list replaced in several parts (a national list does not fit one MQTT message).

Each part is its own signed command: {"list_id", "kind", "version", "part": k, "parts": n,
"entries": [...]}. Parts wait in `alert_staging` (never seen by readers) until all n are in; then
the store copies them into `alert_entries` and moves the pointer in the same transaction as the
last part. A part sent again replaces its earlier copy; an entry id in two parts is refused.
Parts of an older version than one being staged are refused; a newer version drops the older one.
These functions run inside the store's write transaction (store.py); its tables are part of the
store's one schema.
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

from ..errors import AlertListInvalid, AlertVersionConflict
from .entries import ListKind

MAX_PARTS = 1000
# The staging tables' SQL: part of the alert store's one Schema (store.py imports it by this name).
SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_staging (
  list_id TEXT NOT NULL, version INTEGER NOT NULL, part INTEGER NOT NULL, entry_id TEXT NOT NULL,
  category TEXT NOT NULL, issuing_state TEXT, number TEXT, primary_name TEXT, secondary_name TEXT,
  birth_date TEXT, PRIMARY KEY (list_id, version, entry_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_parts (
  list_id TEXT NOT NULL, version INTEGER NOT NULL, part INTEGER NOT NULL, parts INTEGER NOT NULL,
  kind TEXT NOT NULL, PRIMARY KEY (list_id, version, part));
"""
_ENTRY_COLUMNS = ("entry_id", "category", "issuing_state", "number", "primary_name",
                  "secondary_name", "birth_date")


def parse_part(part: object, parts: object) -> tuple[int, int]:
    number, total = _part_count(part, "part"), _part_count(parts, "parts")
    if number > total:
        raise AlertListInvalid("part must not exceed parts")
    return number, total


def _part_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARTS:
        raise AlertListInvalid(f"{what} must be an integer 1..{MAX_PARTS}")
    return value


def _check_other_versions(db: sqlite_utils.Database, list_id: str, version: int) -> None:
    newest = db.execute("SELECT max(version) FROM alert_parts WHERE list_id = ?", [list_id]).fetchone()[0]
    if newest is not None and newest > version:
        raise AlertVersionConflict(list_id, version, newest)
    db.execute("DELETE FROM alert_staging WHERE list_id = ? AND version < ?", [list_id, version])
    db.execute("DELETE FROM alert_parts WHERE list_id = ? AND version < ?", [list_id, version])


def _check_same_shape(db: sqlite_utils.Database, list_id: str, version: int, kind: ListKind,
                      parts: int) -> None:
    shapes = db.execute("SELECT DISTINCT parts, kind FROM alert_parts WHERE list_id = ? AND version = ?",
                        [list_id, version]).fetchall()
    if shapes and shapes != [(parts, kind.value)]:
        raise AlertListInvalid("parts and kind must be the same in every part of a version")


def stage_part(db: sqlite_utils.Database, list_id: str, version: int, kind: ListKind, part: int,
               parts: int, rows: list[tuple]) -> int:
    """Store one part (rows as alert_entries rows); returns how many parts are now in."""
    _check_other_versions(db, list_id, version)
    _check_same_shape(db, list_id, version, kind, parts)
    db.execute("DELETE FROM alert_staging WHERE list_id = ? AND version = ? AND part = ?",
               [list_id, version, part])
    try:
        db.conn.executemany(
            f"INSERT INTO alert_staging (list_id, version, part, {', '.join(_ENTRY_COLUMNS)}) "
            f"VALUES (?, ?, ?, {', '.join('?' for _ in _ENTRY_COLUMNS)})",
            [(list_id, version, part, *row[2:]) for row in rows])
    except sqlite3.IntegrityError:
        raise AlertListInvalid("an entry id appears in two parts") from None
    db.execute("INSERT OR REPLACE INTO alert_parts (list_id, version, part, parts, kind) "
               "VALUES (?, ?, ?, ?, ?)", [list_id, version, part, parts, kind.value])
    return db.execute("SELECT count(*) FROM alert_parts WHERE list_id = ? AND version = ?",
                      [list_id, version]).fetchone()[0]


def promote(db: sqlite_utils.Database, list_id: str, version: int) -> None:
    """Copy a complete staged version into alert_entries and forget the staging."""
    columns = ", ".join(_ENTRY_COLUMNS)
    db.execute(f"INSERT INTO alert_entries (list_id, version, {columns}) "
               f"SELECT list_id, version, {columns} FROM alert_staging WHERE list_id = ? AND version = ?",
               [list_id, version])
    db.execute("DELETE FROM alert_staging WHERE list_id = ?", [list_id])
    db.execute("DELETE FROM alert_parts WHERE list_id = ?", [list_id])


def forget_staged(db: sqlite_utils.Database, list_id: str, version: int) -> None:
    """Drop the parts of `version` and older: that version is now active, or superseded."""
    for table in ("alert_staging", "alert_parts"):
        db.execute(f"DELETE FROM {table} WHERE list_id = ? AND version <= ?", [list_id, version])
