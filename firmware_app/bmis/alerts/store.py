"""The versioned alert-list store: SQLite (sqlite-utils, WAL) on disk, an immutable index in memory.

    store = AlertStore.open(data_dir / "alerts.db", clock=utc_now)
    store.replace("sltd", ListKind.DOCUMENT, version=7, entries=[...])
    store.apply_delta("sltd", base_version=7, version=8, add=[...], remove=["E12"])
    store.check_document("UTO", "L898902C3")   # AlertListChecker, used by the policy

Each list (`list_id`) has one kind and an increasing integer version. An update writes the new
version's rows, moves the list's `active_version` pointer and drops the old rows in ONE
transaction, so another connection sees the old or the new list, never a mix. The in-memory
index is then rebuilt from the database and swapped in one assignment. A delta must name the
active version as its base, else AlertVersionConflict (the BMIS then sends a full replace). A list
too large for one message is replaced in parts, staged by staging.py inside the same transactions.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import sqlite_utils

from firmware_app.policy.alerts import AlertHit
from firmware_app.policy.errors import AlertListUnavailable
from firmware_app.storage import Migration, Schema, migrate
from firmware_app.storage.schema import check_readable

from ..errors import AlertListInvalid, AlertStoreError, AlertVersionConflict
from ..sqlite_files import open_wal_database
from .entries import (
    AlertIndex,
    DocumentListIndex,
    DocumentRecord,
    ListIndex,
    ListKind,
    PersonListIndex,
    PersonRecord,
    make_person,
    parse_entry,
    parse_kind,
    parse_list_id,
    parse_version,
)
from .staging import SCHEMA as STAGING_SCHEMA
from .staging import forget_staged, parse_part, promote, stage_part

MAX_ENTRIES = 1_000_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_lists (
  list_id TEXT PRIMARY KEY, kind TEXT NOT NULL, active_version INTEGER NOT NULL,
  entry_count INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_entries (
  list_id TEXT NOT NULL, version INTEGER NOT NULL, entry_id TEXT NOT NULL, category TEXT NOT NULL,
  issuing_state TEXT, number TEXT, primary_name TEXT, secondary_name TEXT, birth_date TEXT,
  PRIMARY KEY (list_id, version, entry_id)) WITHOUT ROWID;
"""
_COLUMNS = ("list_id", "version", "entry_id", "category", "issuing_state", "number",
            "primary_name", "secondary_name", "birth_date")
_INSERT = (f"INSERT OR REPLACE INTO alert_entries ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
# The store and its staging tables are one file, one schema.
SCHEMA = Schema("alert store", (Migration.sql(1, "baseline", _SCHEMA + STAGING_SCHEMA),))

Record = DocumentRecord | PersonRecord


def _row(list_id: str, version: int, record: Record) -> tuple:
    if isinstance(record, DocumentRecord):
        return (list_id, version, record.entry_id, record.category, record.issuing_state,
                record.number, None, None, None)
    return (list_id, version, record.entry_id, record.category, None, None, record.primary,
            record.secondary, record.birth_date)


def _record(kind: ListKind, row: sqlite3.Row | tuple) -> Record:
    _, _, entry_id, category, state, number, primary, secondary, birth = row
    if kind is ListKind.DOCUMENT:
        return DocumentRecord(entry_id, state, number, category)
    return make_person(entry_id, primary, secondary, birth, category)


def _build_index(list_id: str, kind: ListKind, version: int, records: Iterable[Record]) -> ListIndex:
    # parse_entry(kind, ...) made every record of the list's own kind
    if kind is ListKind.DOCUMENT:
        return DocumentListIndex.build(list_id, version, cast("Iterable[DocumentRecord]", records))
    return PersonListIndex.build(list_id, version, cast("Iterable[PersonRecord]", records))


def _parse_entries(kind: ListKind, entries: object, what: str) -> list[Record]:
    if not isinstance(entries, list):
        raise AlertListInvalid(f"{what} must be a list")
    if len(entries) > MAX_ENTRIES:
        raise AlertListInvalid(f"{what}: more than {MAX_ENTRIES} entries")
    records = [parse_entry(kind, entry) for entry in entries]
    if len({r.entry_id for r in records}) != len(records):
        raise AlertListInvalid(f"{what}: duplicate entry ids")
    return records


class AlertStore:
    """Implements policy.alerts.AlertListChecker over the active version of every list."""

    def __init__(self, db: sqlite_utils.Database, clock: Callable[[], datetime],
                 required_lists: Sequence[str] = (), max_age: timedelta | None = None):
        self._db = db
        self._clock = clock
        self._required = tuple(required_lists)
        self._max_age = max_age
        self._lock = threading.Lock()  # one connection: one transaction at a time
        self._index = AlertIndex()
        migrate(db, SCHEMA)
        self.reload()

    @classmethod
    def open(cls, path: str | Path, clock: Callable[[], datetime],
             required_lists: Sequence[str] = (), max_age: timedelta | None = None) -> AlertStore:
        try:
            return cls(open_wal_database(path, synchronous_full=True), clock, required_lists, max_age)
        except sqlite3.Error as exc:
            raise AlertStoreError(f"cannot open alert store {path}: {exc}") from None

    # --- reading -----------------------------------------------------------------------------

    @property
    def index(self) -> AlertIndex:
        """The current consistent view (take it once to run several queries on one version)."""
        return self._index

    def versions(self) -> dict[str, int]:
        return self._index.versions()

    def _usable_index(self) -> AlertIndex:
        index = self._index
        missing = [name for name in self._required if name not in index.lists]
        if missing:
            raise AlertListUnavailable(f"required alert lists not loaded: {', '.join(missing)}")
        if self._max_age is not None:
            oldest = self._clock() - self._max_age
            stale = [name for name in self._required if index.updated_at[name] < oldest]
            if stale:
                raise AlertListUnavailable(f"required alert lists too old: {', '.join(stale)}")
        return index

    def check_document(self, issuing_state: str, number: str) -> tuple[AlertHit, ...]:
        return self._usable_index().check_document(issuing_state, number)

    def check_person(self, primary: str, secondary: str, birth_date: str) -> tuple[AlertHit, ...]:
        return self._usable_index().check_person(primary, secondary, birth_date)

    def reload(self) -> AlertIndex:
        """Rebuild the whole index from one read transaction (one version of every list)."""
        with self._lock:  # held until the swap: a concurrent update cannot be overwritten
            try:
                with self._db.atomic():
                    heads = self._db.execute(
                        "SELECT list_id, kind, active_version, updated_at FROM alert_lists").fetchall()
                    lists = [(self._load_list(list_id, ListKind(kind), version),
                              datetime.fromisoformat(updated))
                             for list_id, kind, version, updated in heads]
            except (sqlite3.Error, ValueError, AlertListInvalid) as exc:
                raise AlertListUnavailable(f"alert store unreadable: {exc}") from None
            index = AlertIndex()
            for list_index, updated in lists:
                index = index.with_list(list_index, updated)
            self._index = index
            return index

    def _load_list(self, list_id: str, kind: ListKind, version: int) -> ListIndex:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM alert_entries WHERE list_id = ? AND version = ?",
            [list_id, version])
        return _build_index(list_id, kind, version, (_record(kind, row) for row in rows))

    def _swap_in(self, list_id: str, kind: ListKind, version: int) -> None:
        with self._db.atomic():
            fresh = self._load_list(list_id, kind, version)
            updated = self._db.execute("SELECT updated_at FROM alert_lists WHERE list_id = ?",
                                       [list_id]).fetchone()[0]
        self._index = self._index.with_list(fresh, datetime.fromisoformat(updated))

    # --- writing -----------------------------------------------------------------------------

    def _head(self, list_id: str) -> tuple[ListKind, int] | None:
        row = self._db.execute("SELECT kind, active_version FROM alert_lists WHERE list_id = ?",
                               [list_id]).fetchone()
        return (ListKind(row[0]), row[1]) if row else None

    def _move_pointer(self, list_id: str, kind: ListKind, version: int) -> None:
        count = self._db.execute(
            "SELECT count(*) FROM alert_entries WHERE list_id = ? AND version = ?",
            [list_id, version]).fetchone()[0]
        if count > MAX_ENTRIES:
            raise AlertListInvalid(f"list {list_id!r} would exceed {MAX_ENTRIES} entries")
        self._db.execute(
            "INSERT OR REPLACE INTO alert_lists (list_id, kind, active_version, entry_count, "
            "updated_at) VALUES (?, ?, ?, ?, ?)",
            [list_id, kind.value, version, count, self._clock().isoformat()])
        self._db.execute("DELETE FROM alert_entries WHERE list_id = ? AND version <> ?",
                         [list_id, version])
        forget_staged(self._db, list_id, version)

    def replace(self, list_id: object, kind: object, version: object, entries: object) -> int:
        """Install a whole new version of a list; returns its entry count."""
        list_id, kind = parse_list_id(list_id), parse_kind(kind)
        version = parse_version(version)
        records = _parse_entries(kind, entries, "entries")
        with self._lock:
            self._write(lambda: self._replace_rows(list_id, kind, version, records))
            self._swap_in(list_id, kind, version)
        return len(records)

    def _check_new_version(self, list_id: str, kind: ListKind, version: int) -> None:
        head = self._head(list_id)
        if head and head[0] is not kind:
            raise AlertListInvalid(f"list {list_id!r} holds {head[0].value} entries")
        if head and version <= head[1]:
            raise AlertVersionConflict(list_id, None, head[1])

    def _replace_rows(self, list_id: str, kind: ListKind, version: int, records: list[Record]) -> None:
        self._check_new_version(list_id, kind, version)
        self._db.execute("DELETE FROM alert_entries WHERE list_id = ? AND version = ?",
                         [list_id, version])
        self._db.conn.executemany(_INSERT, [_row(list_id, version, r) for r in records])
        self._move_pointer(list_id, kind, version)

    def replace_part(self, list_id: object, kind: object, version: object, part: object,
                     parts: object, entries: object) -> dict:
        """One part of a replace sent in `parts` messages; the list switches with the last one."""
        list_id, kind = parse_list_id(list_id), parse_kind(kind)
        version = parse_version(version)
        part, parts = parse_part(part, parts)
        rows = [_row(list_id, version, r) for r in _parse_entries(kind, entries, "entries")]
        received: list[int] = []

        def work():
            self._check_new_version(list_id, kind, version)
            received.append(stage_part(self._db, list_id, version, kind, part, parts, rows))
            if received[0] == parts:
                promote(self._db, list_id, version)
                self._move_pointer(list_id, kind, version)
        with self._lock:
            self._write(work)
            complete = received[0] == parts
            if complete:
                self._swap_in(list_id, kind, version)
        progress = {"part": part, "parts": parts, "received": received[0], "complete": complete}
        return progress | ({"entry_count": self._index.lists[list_id].size} if complete else {})

    def apply_delta(self, list_id: object, base_version: object, version: object,
                    add: object = (), remove: object = ()) -> int:
        """Derive `version` from the active `base_version`; returns the new entry count."""
        list_id = parse_list_id(list_id)
        base, version = parse_version(base_version, "base_version"), parse_version(version)
        if version <= base:
            raise AlertListInvalid("version must be greater than base_version")
        removals = _parse_removals(remove)
        with self._lock:
            head = self._head(list_id)
            if head is None or head[1] != base:
                raise AlertVersionConflict(list_id, base, head[1] if head else None)
            kind = head[0]
            records = _parse_entries(kind, list(add) if isinstance(add, tuple) else add, "add")
            self._write(lambda: self._delta_rows(list_id, kind, base, version, records, removals))
            self._swap_in(list_id, kind, version)
            return self._index.lists[list_id].size

    def _delta_rows(self, list_id: str, kind: ListKind, base: int, version: int,
                    records: list[Record], removals: list[str]) -> None:
        if self._head(list_id) != (kind, base):  # re-read inside the transaction
            raise AlertVersionConflict(list_id, base, (self._head(list_id) or (None, None))[1])
        self._db.execute(
            f"INSERT INTO alert_entries ({', '.join(_COLUMNS)}) SELECT ?, ?, "
            f"{', '.join(_COLUMNS[2:])} FROM alert_entries WHERE list_id = ? AND version = ?",
            [list_id, version, list_id, base])
        removed = self._db.conn.executemany(
            "DELETE FROM alert_entries WHERE list_id = ? AND version = ? AND entry_id = ?",
            [(list_id, version, entry_id) for entry_id in removals]).rowcount
        if removals and removed != len(removals):
            raise AlertListInvalid(f"remove: {len(removals) - removed} entry ids not in the list")
        self._db.conn.executemany(_INSERT, [_row(list_id, version, r) for r in records])
        self._move_pointer(list_id, kind, version)

    def _write(self, work: Callable[[], None]) -> None:
        try:
            with self._db.atomic():
                work()
        except sqlite3.Error as exc:
            raise AlertStoreError(f"alert store write failed: {exc}") from None

    def summary(self) -> list[dict]:
        """One row per list (no entry content): list id, kind, version, count, update time."""
        with self._lock:
            return list(self._db.query(
                "SELECT list_id, kind, active_version AS version, entry_count, updated_at "
                "FROM alert_lists ORDER BY list_id"))

    def close(self) -> None:
        self._db.close()


def read_summary(path: str | Path) -> list[dict]:
    """The lists in a store file, read-only and without loading entries (for tools)."""
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            check_readable(conn, SCHEMA, path)
            rows = conn.execute("SELECT list_id, kind, active_version, entry_count, updated_at "
                                "FROM alert_lists ORDER BY list_id").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise AlertStoreError(f"cannot read alert store {path}: {exc}") from None
    keys = ("list_id", "kind", "version", "entry_count", "updated_at")
    return [dict(zip(keys, row)) for row in rows]


def _parse_removals(remove: object) -> list[str]:
    if isinstance(remove, tuple):
        remove = list(remove)
    if not isinstance(remove, list) or not all(isinstance(i, str) and i for i in remove):
        raise AlertListInvalid("remove must be a list of entry ids")
    if len(remove) > MAX_ENTRIES or len(set(remove)) != len(remove):
        raise AlertListInvalid("remove: too many or duplicate entry ids")
    return remove
