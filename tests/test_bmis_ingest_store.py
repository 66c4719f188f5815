"""bmis-ingest storage: the same tests over SQLite (embedded default) and a real PostgreSQL server."""
from __future__ import annotations

import threading
import uuid

import pytest

from firmware_app.bmis.ingest.errors import DatabaseUrlError, SchemaGap, SchemaTooNew, StoreUnavailable
from firmware_app.bmis.ingest.migrations import CREATE_TABLE_SQL, POSTGRES_STEPS, SQLITE_STEPS, Step, pending_steps
from firmware_app.bmis.ingest.records import Batch, Rejection, RejectReason, StoredMessage
from firmware_app.bmis.ingest.store import open_store
from tests.pg_fixtures import postgres_server, postgres_url  # noqa: F401  (fixtures)


def _message(n: int, device: str = "gate-a") -> StoredMessage:
    msg_id = str(uuid.UUID(int=n + 1))
    return StoredMessage(msg_id, device, "post-t", "events/exception", n + 1, 1, "2026-01-02T03:04:05.678Z",
                         f"gates/v1/{device}/events/exception", f'{{"msg_id": "{msg_id}", "n": {n}}}', 1000.0 + n)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ingest.db"
    return request.getfixturevalue("postgres_url")


def test_a_new_store_is_migrated_to_the_newest_version_once(url):
    store = open_store(url)
    assert store.schema_version() == 2
    store.close()
    again = open_store(url)                     # a second open finds nothing to do
    assert again.schema_version() == 2 and again.counts().messages == 0
    again.close()


def test_the_insert_is_idempotent_on_msg_id_and_duplicates_are_counted(url):
    store = open_store(url)
    first = store.commit(Batch([_message(n) for n in range(3)], []))
    second = store.commit(Batch([_message(n) for n in range(4)], []))
    assert len(first.inserted) == 3 and first.duplicates == 0
    assert second.inserted == {_message(3).msg_id} and second.duplicates == 3
    assert sorted(store.msg_ids()) == sorted(_message(n).msg_id for n in range(4))
    assert store.counts().duplicates == 3
    store.close()


def test_a_commit_survives_a_reopen_and_rejections_are_counted(url):
    store = open_store(url)
    store.commit(Batch([_message(0)], [Rejection("gates/v1/gate-a/alarms", RejectReason.DEVICE_MISMATCH, "x", 1.0)]))
    store.close()
    reopened = open_store(url)
    counts = reopened.counts()
    assert (counts.messages, counts.rejected) == (1, 1)
    assert reopened.rejections() == [("gates/v1/gate-a/alarms", "device_mismatch")]
    reopened.close()


def test_two_writers_with_overlapping_batches_store_each_message_once(url):
    stores = [open_store(url) for _ in range(2)]
    batches = [[_message(n) for n in range(k, k + 300)] for k in (0, 150)]
    results = [None, None]

    def write(i: int) -> None:
        results[i] = [stores[i].commit(Batch(batches[i][j:j + 50], [])) for j in range(0, 300, 50)]

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    inserted = sum(len(r.inserted) for rs in results for r in rs)
    duplicates = sum(r.duplicates for rs in results for r in rs)
    assert (inserted, duplicates) == (450, 150)
    assert len(set(stores[0].msg_ids())) == len(stores[0].msg_ids()) == 450
    [s.close() for s in stores]


def _create_version_1(url: str) -> None:
    """A database as the first release left it: step 1 only, recorded in schema_migrations."""
    if url.startswith("sqlite"):
        import sqlite3
        conn, steps, mark = sqlite3.connect(url[len("sqlite://"):]), SQLITE_STEPS, "?"
    else:
        import psycopg
        conn, steps, mark = psycopg.connect(url), POSTGRES_STEPS, "%s"
    conn.execute(CREATE_TABLE_SQL)
    for statement in steps[0].statements:
        conn.execute(statement)
    conn.execute(f"INSERT INTO schema_migrations VALUES ({mark}, {mark}, {mark})", (1, steps[0].name, "then"))
    conn.commit()
    conn.close()


def test_an_older_schema_is_migrated_forward_keeping_its_rows(url):
    _create_version_1(url)
    store = open_store(url)
    assert store.schema_version() == 2
    store.commit(Batch([_message(0)], []))
    assert store.counts().messages == 1
    store.close()


def test_a_gap_or_a_newer_schema_is_refused_with_a_typed_error():
    steps = (Step(1, "a", ()), Step(2, "b", ()), Step(3, "c", ()))
    with pytest.raises(SchemaGap) as gap:
        pending_steps(steps, {1, 3})
    assert gap.value.missing == [2] and "different build" in str(gap.value)
    with pytest.raises(SchemaTooNew) as too_new:
        pending_steps(steps, {1, 2, 3, 4})
    assert (too_new.value.found, too_new.value.supported) == (4, 3)
    assert "newer than the 3 this bmis-ingest supports" in str(too_new.value)
    assert isinstance(too_new.value, StoreUnavailable) and not isinstance(too_new.value, ValueError)


def _record_newer_step(url: str) -> None:
    """What a newer release's migration leaves behind: a step this build does not have."""
    if url.startswith("sqlite"):
        import sqlite3
        conn, mark = sqlite3.connect(url[len("sqlite://"):]), "?"
    else:
        import psycopg
        conn, mark = psycopg.connect(url), "%s"
    conn.execute(f"INSERT INTO schema_migrations VALUES ({mark}, {mark}, {mark})", (99, "from the future", "later"))
    conn.commit()
    conn.close()


def test_a_database_migrated_by_a_newer_release_is_refused_untouched(url, tmp_path, capsys):
    from firmware_app.bmis.ingest.cli import main
    open_store(url).close()
    _record_newer_step(url)
    with pytest.raises(SchemaTooNew) as refused:
        open_store(url)
    assert refused.value.found == 99 and refused.value.supported == 2
    ca = tmp_path / "ca.pem"
    ca.write_text("unused by --migrate-only")
    assert main(["--ca", str(ca), "--database", url, "--migrate-only"]) == 1
    err = capsys.readouterr().err
    assert "schema version 99 is newer than the 2 this bmis-ingest supports" in err and "Traceback" not in err


def test_unknown_schemes_and_unreachable_servers_are_typed_errors(tmp_path):
    with pytest.raises(DatabaseUrlError):
        open_store("mysql://x/y")
    with pytest.raises(StoreUnavailable):
        open_store("postgresql://nobody@127.0.0.1:1/none")


def test_the_cli_migrates_and_refuses_unknown_databases(tmp_path, capsys):
    from firmware_app.bmis.ingest.cli import main
    ca = tmp_path / "ca.pem"
    ca.write_text("unused by --migrate-only")
    assert main(["--ca", str(ca), "--database", str(tmp_path / "x.db"), "--migrate-only"]) == 0
    assert "schema version 2" in capsys.readouterr().out
    assert main(["--ca", str(ca), "--database", "mysql://h/db", "--migrate-only"]) == 2
