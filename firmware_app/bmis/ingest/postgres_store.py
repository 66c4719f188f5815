"""PostgreSQL backend (psycopg 3): for a real post or a national centre, workers on many machines.

One round trip per batch: the rows go in as arrays (`unnest`), `ON CONFLICT (msg_id) DO NOTHING`
makes the insert idempotent and `RETURNING` names the rows that were new. Migrations run under a
transaction-scoped advisory lock, so workers starting together migrate once.
"""
from __future__ import annotations

import datetime as dt

import psycopg

from .errors import StoreUnavailable
from .migrations import CREATE_TABLE_SQL, POSTGRES_STEPS, pending_steps
from .records import Batch, CommitResult, StoreCounts

MIGRATION_LOCK = 0x62_6D_69_73   # "bmis": any fixed key shared by every worker
_INSERT = (
    "INSERT INTO messages (msg_id, device_id, post_id, kind, seq, boot, time, topic, body, stored_at)"
    " SELECT i, d, p, k, s, b, t, tp, bd::jsonb, st FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[],"
    " %s::bigint[], %s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::float8[])"
    " AS x(i, d, p, k, s, b, t, tp, bd, st)"
    " ON CONFLICT (msg_id) DO NOTHING RETURNING msg_id::text")
_REJECT = "INSERT INTO rejected (topic, reason, detail, stored_at) VALUES (%s, %s, %s, %s)"
_BUMP = ("INSERT INTO counters VALUES (%s, %s) ON CONFLICT (name) DO UPDATE"
         " SET value = counters.value + excluded.value")


class PostgresStore:
    def __init__(self, url: str, connect_timeout_s: int = 10):
        try:
            self._conn = psycopg.connect(url, connect_timeout=connect_timeout_s, autocommit=True)
            self._migrate()
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot open PostgreSQL store: {type(exc).__name__}: {exc}") from exc

    def _migrate(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self._conn.execute(CREATE_TABLE_SQL)
            applied = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
            for step in pending_steps(POSTGRES_STEPS, applied):
                for statement in step.statements:
                    self._conn.execute(statement)
                self._conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                                   (step.version, step.name, dt.datetime.now(dt.UTC).isoformat()))

    def commit(self, batch: Batch) -> CommitResult:
        rows = batch.accepted
        columns = [[m.msg_id for m in rows], [m.device_id for m in rows], [m.post_id for m in rows],
                   [m.kind for m in rows], [m.seq for m in rows], [m.boot for m in rows], [m.time for m in rows],
                   [m.topic for m in rows], [m.body for m in rows], [m.stored_at for m in rows]]
        try:
            with self._conn.transaction():
                inserted = frozenset(r[0] for r in self._conn.execute(_INSERT, columns).fetchall()) \
                    if rows else frozenset()
                self._write_side_rows(batch, len(rows) - len(inserted))
        except psycopg.Error as exc:
            raise StoreUnavailable(f"PostgreSQL commit failed: {type(exc).__name__}") from exc
        return CommitResult(inserted, len(rows) - len(inserted))

    def _write_side_rows(self, batch: Batch, duplicates: int) -> None:
        if batch.rejected:
            with self._conn.cursor() as cursor:
                cursor.executemany(_REJECT, [(r.topic, r.reason.value, r.detail, r.stored_at)
                                             for r in batch.rejected])
        if duplicates:
            self._conn.execute(_BUMP, ("duplicates", duplicates))

    def _scalar(self, query: str) -> int:
        with self._conn.transaction():
            row = self._conn.execute(query).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def counts(self) -> StoreCounts:
        return StoreCounts(self._scalar("SELECT COUNT(*) FROM messages"),
                           self._scalar("SELECT value FROM counters WHERE name = 'duplicates'"),
                           self._scalar("SELECT COUNT(*) FROM rejected"))

    def msg_ids(self) -> list[str]:
        with self._conn.transaction():
            return [r[0] for r in self._conn.execute("SELECT msg_id::text FROM messages").fetchall()]

    def rejections(self) -> list[tuple[str, str]]:
        with self._conn.transaction():
            return [tuple(r) for r in self._conn.execute("SELECT topic, reason FROM rejected ORDER BY id")]

    def schema_version(self) -> int:
        return self._scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")

    def close(self) -> None:
        self._conn.close()
