"""Versioned SQLite schemas: every file the appliance owns carries `PRAGMA user_version`, is
migrated forward in order, and a file from a newer release is refused, untouched."""
from __future__ import annotations

import ast
import datetime as dt
import hashlib
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
import sqlite_utils

from firmware_app.bmis.alerts.store import SCHEMA as ALERTS
from firmware_app.bmis.alerts.store import AlertStore, read_summary
from firmware_app.bmis.commands.journal import SCHEMA as COMMANDS
from firmware_app.bmis.commands.journal import CommandJournal
from firmware_app.bmis.contract import Identity
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.bmis.outbox.storage import SCHEMA as OUTBOX
from firmware_app.bmis.outbox.storage import inspect_outbox
from firmware_app.bmis.stats import SCHEMA as STATS
from firmware_app.bmis.stats import CrossingStats
from firmware_app.deploy.tokens import SCHEMA as TOKENS
from firmware_app.deploy.tokens import TokenStore
from firmware_app.lane.journal import SCHEMA as LANE
from firmware_app.lane.journal import LaneJournal
from firmware_app.storage import Migration, MigrationFailed, Schema, SchemaTooNew, migrate, read_version

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


def open_outbox(path: Path) -> Outbox:
    return Outbox(path, Identity("gate-m", "post-m"), clock=lambda: NOW, id_source=uuid.uuid4)


# (schema, opener) for every SQLite file the appliance and its tools write.
STORES = {
    "outbox": (OUTBOX, open_outbox),
    "lane journal": (LANE, LaneJournal.open),
    "command journal": (COMMANDS, CommandJournal.open),
    "alert store": (ALERTS, lambda p: AlertStore.open(p, lambda: NOW)),
    "statistics": (STATS, CrossingStats.open),
    "enrolment tokens": (TOKENS, TokenStore),      # on the post's CA laptop (gatectl pki enrol-token)
}


def shut(store) -> None:
    if hasattr(store, "close"):   # the lane journal lives as long as the process
        store.close()


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return read_version(conn)
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the mechanism ----------------------------------------------------------------------------

def counted(log: list[int], version: int, sql: str) -> Migration:
    def step(db):
        log.append(version)
        db.executescript(sql)
    return Migration(version, f"step {version}", step)


def three_steps(log: list[int], third: str = "ALTER TABLE t ADD COLUMN c TEXT") -> Schema:
    return Schema("test", (counted(log, 1, "CREATE TABLE t (a INTEGER)"),
                           counted(log, 2, "ALTER TABLE t ADD COLUMN b TEXT"),
                           counted(log, 3, third)))


def test_a_new_file_runs_every_step_in_order_and_a_second_open_none(tmp_path):
    log: list[int] = []
    conn = sqlite3.connect(tmp_path / "x.db")
    assert migrate(conn, three_steps(log)) == 0
    assert migrate(conn, three_steps(log)) == 3
    assert log == [1, 2, 3] and read_version(conn) == 3


def test_an_older_file_gets_only_the_missing_steps_and_keeps_its_rows(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    migrate(conn, Schema("test", three_steps([]).migrations[:1]))
    conn.execute("INSERT INTO t (a) VALUES (7)")
    conn.commit()
    log: list[int] = []
    assert migrate(conn, three_steps(log)) == 1
    assert log == [2, 3]
    assert conn.execute("SELECT a, b, c FROM t").fetchall() == [(7, None, None)]


def test_a_failing_step_is_rolled_back_whole_and_the_file_stays_at_the_last_good_version(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    broken = three_steps([], third="CREATE TABLE u (x INTEGER); ALTER TABLE missing ADD COLUMN y")
    with pytest.raises(MigrationFailed) as failed:
        migrate(conn, broken)
    assert (failed.value.version, failed.value.target) == (2, 3)
    assert read_version(conn) == 2
    assert "u" not in sqlite_utils.Database(conn).table_names()   # the step's first half is gone too


def test_a_file_from_a_newer_release_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path)
    migrate(conn, three_steps([]))
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    before = digest(path)
    conn = sqlite3.connect(path)
    with pytest.raises(SchemaTooNew) as refused:
        migrate(conn, three_steps([]), path)
    conn.close()
    assert (refused.value.found, refused.value.supported) == (4, 3)
    assert "newer than the 3 this release supports" in str(refused.value) and str(path) in str(refused.value)
    assert digest(path) == before


def test_two_processes_opening_at_once_run_each_step_once(tmp_path):
    log: list[int] = []
    path = tmp_path / "x.db"
    barrier = threading.Barrier(2)

    def opener():
        conn = sqlite3.connect(path, timeout=10)
        barrier.wait()
        migrate(conn, three_steps(log))
        conn.close()
    threads = [threading.Thread(target=opener) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(log) == [1, 2, 3] and version_of(path) == 3


def test_migrations_must_be_numbered_in_order():
    with pytest.raises(ValueError):
        Schema("bad", (Migration.sql(2, "two", ""), Migration.sql(1, "one", "")))


# -- every file the appliance owns -----------------------------------------------------------

@pytest.mark.parametrize("name", STORES)
def test_each_store_writes_its_schema_version(tmp_path, name):
    schema, opener = STORES[name]
    shut(opener(tmp_path / "f.db"))
    assert version_of(tmp_path / "f.db") == schema.version >= 1


@pytest.mark.parametrize("name", STORES)
def test_each_store_refuses_a_file_from_a_newer_release(tmp_path, name):
    schema, opener = STORES[name]
    path = tmp_path / "f.db"
    shut(opener(path))
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.version + 1}")
    conn.close()
    before = digest(path)
    with pytest.raises(SchemaTooNew) as refused:
        opener(path)
    assert refused.value.schema == schema.name and refused.value.found == schema.version + 1
    assert digest(path) == before and version_of(path) == schema.version + 1


def test_an_outbox_from_before_versions_is_versioned_and_keeps_its_records(tmp_path):
    path = tmp_path / "o.db"
    conn = sqlite3.connect(path)   # the layout of an outbox written before receipts and versions
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER)")
    conn.execute("CREATE TABLE pending (id INTEGER PRIMARY KEY, msg_id TEXT, kind TEXT, seq INTEGER, topic TEXT,"
                 " priority INTEGER, retain INTEGER, payload BLOB, correlation BLOB, created FLOAT)")
    conn.execute("INSERT INTO pending VALUES (1, 'm1', 'EXCEPTION', 1, 't', 3, 0, x'7b7d', NULL, 0)")
    conn.execute("INSERT INTO meta VALUES ('seq', 1)")
    conn.commit()
    conn.close()
    box = open_outbox(path)
    assert [m.msg_id for m in box.next_batch(5)] == ["m1"] and box.last_seq == 1
    box.close()
    assert version_of(path) == OUTBOX.version


def test_a_command_journal_from_before_versions_keeps_its_audit_trail(tmp_path):
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path)    # before keep_until_steady and versions
    conn.executescript(
        "CREATE TABLE seen_commands (command_id TEXT PRIMARY KEY, digest TEXT NOT NULL, expires_at TEXT NOT NULL,"
        " result TEXT);"
        "CREATE TABLE command_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, command_id TEXT,"
        " command TEXT, operator_id TEXT, key_id TEXT, status TEXT NOT NULL, reason TEXT NOT NULL,"
        " detail TEXT NOT NULL);"
        "INSERT INTO command_audit (time, command, status, reason, detail) VALUES ('t', 'set-mode', 'ack', 'ok', '');")
    conn.close()
    CommandJournal.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT command FROM command_audit").fetchall() == [("set-mode",)]
    assert "keep_until_steady" in {r[1] for r in conn.execute("PRAGMA table_info(seen_commands)")}
    assert read_version(conn) == COMMANDS.version


def test_read_only_tools_refuse_a_newer_file_too(tmp_path):
    open_outbox(tmp_path / "bmis-outbox.db").close()
    AlertStore.open(tmp_path / "alerts.db", lambda: NOW).close()
    for path, schema in ((tmp_path / "bmis-outbox.db", OUTBOX), (tmp_path / "alerts.db", ALERTS)):
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version = {schema.version + 5}")
        conn.close()
    with pytest.raises(SchemaTooNew):
        inspect_outbox(tmp_path / "bmis-outbox.db", NOW.timestamp())
    with pytest.raises(SchemaTooNew):
        read_summary(tmp_path / "alerts.db")


def test_gatectl_outbox_status_names_a_newer_outbox_and_exits_2(tmp_path, capsys):
    from firmware_app.cli import main
    open_outbox(tmp_path / "bmis-outbox.db").close()
    conn = sqlite3.connect(tmp_path / "bmis-outbox.db")
    conn.execute(f"PRAGMA user_version = {OUTBOX.version + 1}")
    conn.close()
    config = tmp_path / "gate.toml"
    config.write_text(f'[device]\nid = "gate-r"\npost_id = "post-r"\ndata_dir = "{tmp_path}"\n'
                      '[reader]\nurl = "sim://"\n')
    assert main(["outbox", "status", "--config", str(config)]) == 2
    assert "written by a newer release" in capsys.readouterr().err


def test_every_module_that_creates_tables_migrates_them():
    """A new SQLite file in the appliance comes with a Schema: creating tables outside a migration
    would leave its files unversioned. (The ingest is the BMIS's side, not the appliance's.)"""
    unversioned = []
    for path in (ROOT / "firmware_app").rglob("*.py"):
        if "ingest" in path.parts or path.parts[-2] == "storage":
            continue
        source = path.read_text(encoding="utf-8")
        creates = "CREATE TABLE" in source or (".create(" in source and "sqlite_utils" in source)
        if creates and "Schema(" not in source and not _feeds_a_schema(path, source):
            unversioned.append(path.relative_to(ROOT).as_posix())
    assert unversioned == []


def _feeds_a_schema(path: Path, source: str) -> bool:
    """alert_staging's SQL is part of the alert store's schema (imported there by name)."""
    names = {t.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)}
    module = path.stem
    return any(f"from .{module} import SCHEMA" in other.read_text(encoding="utf-8")
               for other in path.parent.glob("*.py")) and "SCHEMA" in names
