"""Atomic swap: readers see one whole version of a list while a writer replaces and patches it."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from firmware_app.bmis.alerts.store import AlertStore

VERSIONS = 16
ENTRIES = 200


def clock():
    return datetime(2026, 11, 26, tzinfo=UTC)


def entries_of(version: int) -> list[dict]:
    # Every entry of a version carries the same number: one query returns the whole list.
    return [{"id": f"V{version}-{i}", "issuing_state": "UTO", "number": "SAME",
             "category": str(version)} for i in range(ENTRIES)]


def _write_versions(store: AlertStore, done: threading.Event) -> None:
    try:
        for version in range(1, VERSIONS + 1):
            if version % 2:
                store.replace("sltd", "document", version, entries_of(version))
            else:  # a delta that rewrites every entry: remove all, add the next set
                store.apply_delta("sltd", version - 1, version, add=entries_of(version),
                                  remove=[e["id"] for e in entries_of(version - 1)])
    finally:
        done.set()


def _one_version(hits, allow_empty: bool = True) -> bool:
    versions = {h.list_version for h in hits}
    if not hits:
        return allow_empty
    version = versions.pop()
    return not versions and len(hits) == ENTRIES and all(
        h.entry_id.startswith(f"V{version}-") and h.category == version for h in hits)


def test_in_process_readers_never_see_a_mix(tmp_path):
    store = AlertStore.open(tmp_path / "a.db", clock)
    done, bad, seen = threading.Event(), [], set()

    def read():
        while not done.is_set():
            index = store.index  # one consistent view: its versions and its hits agree
            hits = index.check_document("UTO", "SAME")
            if not _one_version(hits, allow_empty=not index.versions()):
                bad.append(hits)
            seen.update(h.list_version for h in hits[:1])
            time.sleep(0.0002)  # leave the writer some of the GIL

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    _write_versions(store, done)
    for reader in readers:
        reader.join()
    assert not bad
    assert store.versions() == {"sltd": VERSIONS}
    assert len(seen) >= 2  # the readers really ran during the swaps


def test_other_connection_reloads_one_version(tmp_path):
    writer = AlertStore.open(tmp_path / "a.db", clock)
    reader = AlertStore.open(tmp_path / "a.db", clock)
    done, bad, reloads = threading.Event(), [], [0]

    def read():
        while not done.is_set():
            reader.reload()
            reloads[0] += 1
            loaded = bool(reader.versions())  # once the list exists it is never seen empty
            if not _one_version(reader.check_document("UTO", "SAME"), allow_empty=not loaded):
                bad.append(reader.versions())

    thread = threading.Thread(target=read)
    thread.start()
    _write_versions(writer, done)
    thread.join()
    reader.reload()
    assert not bad and reloads[0] > 1
    assert reader.versions() == {"sltd": VERSIONS}
    assert len(reader.check_document("UTO", "SAME")) == ENTRIES


def test_reload_on_the_same_store_never_goes_back_a_version(tmp_path):
    store = AlertStore.open(tmp_path / "a.db", clock)
    done, seen = threading.Event(), []

    def reload_and_watch():
        while not done.is_set():
            store.reload()
            seen.append(store.index.versions().get("sltd", 0))

    thread = threading.Thread(target=reload_and_watch)
    thread.start()
    _write_versions(store, done)
    thread.join()
    assert seen == sorted(seen) and store.versions() == {"sltd": VERSIONS}
