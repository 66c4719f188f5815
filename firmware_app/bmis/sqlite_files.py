"""The SQLite files of the BMIS side (command journal, statistics, alert lists): opened the same
way, and used from several threads through one connection, one transaction at a time."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlite_utils

T = TypeVar("T")


def open_wal_database(path: str | Path, *, synchronous_full: bool = False) -> sqlite_utils.Database:
    """A WAL database shared by threads; raises sqlite3.Error (callers name their own error)."""
    db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False, timeout=10))
    db.enable_wal()
    if synchronous_full:  # records that must survive a power cut (journal, alert lists)
        db.execute("PRAGMA synchronous=FULL")
    return db


def in_memory_database() -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))


class Serialized:
    """Runs work in one transaction at a time; a SQLite error comes out as `error(what: exc)`."""

    def __init__(self, db: sqlite_utils.Database, error: Callable[[str], Exception], what: str):
        self._db, self._error, self._what = db, error, what
        self._lock = threading.Lock()

    def __call__(self, work: Callable[[], T]) -> T:
        try:
            with self._lock, self._db.atomic():
                return work()
        except sqlite3.Error as exc:
            raise self._error(f"{self._what}: {exc}") from None
