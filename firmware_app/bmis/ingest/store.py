"""Where accepted messages go: a backend chosen by the `--database` URL.

    sqlite:///var/lib/bmis-ingest/ingest.db  (or a plain path)  -> SqliteStore (embedded default)
    postgresql://user@host/dbname                              -> PostgresStore (psycopg 3)

Both: versioned migrations on open, one durable transaction per batch, idempotent insert keyed on
msg_id (a duplicate is counted, never stored twice).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .errors import DatabaseUrlError
from .records import Batch, CommitResult, StoreCounts


class Store(Protocol):
    def commit(self, batch: Batch) -> CommitResult: ...

    def counts(self) -> StoreCounts: ...

    def msg_ids(self) -> list[str]: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


def open_store(url: str) -> Store:
    """The backend for `url`; imports psycopg only for PostgreSQL."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres_store import PostgresStore
        return PostgresStore(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite://"):]
    elif "://" in url:
        raise DatabaseUrlError(f"unsupported database URL scheme: {url.split('://', 1)[0]}")
    from .sqlite_store import SqliteStore
    return SqliteStore(Path(url))
