"""Versioned schema migrations, one numbered list per backend.

`schema_migrations(version, name, applied_at)` records each applied step; a step and its record
commit together, so a crash mid-migration re-runs only the unfinished step. Steps are append-only:
a shipped step is never edited, a change is a new step.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SchemaGap, SchemaTooNew


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    statements: tuple[str, ...]


SQLITE_STEPS = (
    Step(1, "messages, rejected, counters", (
        "CREATE TABLE messages (msg_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, post_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, seq INTEGER NOT NULL, boot INTEGER NOT NULL, time TEXT NOT NULL,"
        " topic TEXT NOT NULL, body TEXT NOT NULL, stored_at REAL NOT NULL)",
        "CREATE INDEX messages_device_seq ON messages(device_id, seq)",
        "CREATE TABLE rejected (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, reason TEXT NOT NULL,"
        " detail TEXT NOT NULL, stored_at REAL NOT NULL)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    )),
    Step(2, "index on kind and time (reports by kind and period)", (
        "CREATE INDEX messages_kind_time ON messages(kind, time)",
    )),
)

POSTGRES_STEPS = (
    Step(1, "messages, rejected, counters", (
        "CREATE TABLE messages (msg_id uuid PRIMARY KEY, device_id text NOT NULL, post_id text NOT NULL,"
        " kind text NOT NULL, seq bigint NOT NULL, boot bigint NOT NULL, time timestamptz NOT NULL,"
        " topic text NOT NULL, body jsonb NOT NULL, stored_at double precision NOT NULL)",
        "CREATE INDEX messages_device_seq ON messages(device_id, seq)",
        "CREATE TABLE rejected (id bigserial PRIMARY KEY, topic text NOT NULL, reason text NOT NULL,"
        " detail text NOT NULL, stored_at double precision NOT NULL)",
        "CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)",
    )),
    Step(2, "index on kind and time (reports by kind and period)", (
        "CREATE INDEX messages_kind_time ON messages(kind, time)",
    )),
)

CREATE_TABLE_SQL = ("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                    " name text NOT NULL, applied_at text NOT NULL)")


def pending_steps(steps: tuple[Step, ...], applied: set[int]) -> list[Step]:
    """Steps not applied yet, in order. A database migrated further than this build knows is
    SchemaTooNew; a gap (a newer version applied, an older one missing) SchemaGap: refuse rather
    than guess."""
    newest = max(applied, default=0)
    supported = max((s.version for s in steps), default=0)
    if newest > supported:
        raise SchemaTooNew(newest, supported)
    missing = [s for s in steps if s.version not in applied]
    skipped = [s.version for s in missing if s.version < newest]
    if skipped:
        raise SchemaGap(sorted(applied), skipped)
    return missing
