"""A list replaced in several parts: invisible until complete, then swapped atomically."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from firmware_app.bmis.alerts.store import AlertStore
from firmware_app.bmis.errors import AlertListInvalid, AlertVersionConflict
from tests.bmis_command_helpers import Bmis, FakeLane, make_processor
from tests.fakes import WallClock


def clock():
    return datetime(2026, 11, 26, 12, tzinfo=UTC)


def docs(start, count):
    return [{"id": f"E{i}", "issuing_state": "UTO", "number": f"N{i}"} for i in range(start, start + count)]


@pytest.fixture
def store(tmp_path):
    s = AlertStore.open(tmp_path / "a.db", clock)
    s.replace("sltd", "document", 1, docs(0, 2))
    yield s
    s.close()


def test_parts_switch_only_when_all_are_in(store):
    first = store.replace_part("sltd", "document", 2, 1, 3, docs(100, 5))
    assert first == {"part": 1, "parts": 3, "received": 1, "complete": False}
    store.replace_part("sltd", "document", 2, 3, 3, docs(300, 5))
    assert store.versions() == {"sltd": 1} and store.check_document("UTO", "N0")
    assert not store.check_document("UTO", "N100")
    last = store.replace_part("sltd", "document", 2, 2, 3, docs(200, 5))
    assert last["complete"] and last["entry_count"] == 15
    assert store.versions() == {"sltd": 2}
    assert store.check_document("UTO", "N204") and not store.check_document("UTO", "N0")


def test_a_part_sent_again_replaces_its_copy(store):
    store.replace_part("sltd", "document", 2, 1, 2, docs(100, 5))
    store.replace_part("sltd", "document", 2, 1, 2, docs(100, 3))
    assert store.replace_part("sltd", "document", 2, 2, 2, docs(200, 1))["entry_count"] == 4


def test_an_id_in_two_parts_is_refused(store):
    store.replace_part("sltd", "document", 2, 1, 2, docs(100, 5))
    with pytest.raises(AlertListInvalid, match="two parts"):
        store.replace_part("sltd", "document", 2, 2, 2, docs(104, 2))
    assert store.replace_part("sltd", "document", 2, 2, 2, docs(105, 2))["complete"]


@pytest.mark.parametrize("part, parts", [(0, 2), (3, 2), (1, 0), (1, 1001), (True, 2), (1, "2")])
def test_bad_part_numbers(store, part, parts):
    with pytest.raises(AlertListInvalid):
        store.replace_part("sltd", "document", 2, part, parts, [])


def test_parts_must_agree_on_their_count(store):
    store.replace_part("sltd", "document", 2, 1, 3, docs(100, 1))
    with pytest.raises(AlertListInvalid, match="same in every part"):
        store.replace_part("sltd", "document", 2, 2, 2, docs(200, 1))


def test_newer_version_drops_older_staging_and_older_parts_are_refused(store):
    store.replace_part("sltd", "document", 2, 1, 2, docs(100, 1))
    store.replace_part("sltd", "document", 3, 1, 2, docs(300, 1))
    with pytest.raises(AlertVersionConflict):
        store.replace_part("sltd", "document", 2, 2, 2, docs(200, 1))
    assert store.replace_part("sltd", "document", 3, 2, 2, docs(400, 1))["entry_count"] == 2


def test_a_full_replace_supersedes_staged_parts(store):
    store.replace_part("sltd", "document", 2, 1, 2, docs(100, 1))
    store.replace("sltd", "document", 5, docs(500, 1))
    with pytest.raises(AlertVersionConflict):
        store.replace_part("sltd", "document", 2, 2, 2, docs(200, 1))
    assert store.versions() == {"sltd": 5}


def test_staged_parts_survive_a_restart(tmp_path):
    first = AlertStore.open(tmp_path / "a.db", clock)
    first.replace_part("sltd", "document", 1, 1, 2, docs(0, 2))
    first.close()
    second = AlertStore.open(tmp_path / "a.db", clock)
    assert second.versions() == {}
    assert second.replace_part("sltd", "document", 1, 2, 2, docs(2, 2))["entry_count"] == 4


def test_parts_through_signed_commands(tmp_path):
    clock_ = WallClock()
    bmis, lane = Bmis(clock_), FakeLane()
    processor, alerts, journal = make_processor(tmp_path, clock_, bmis, lane)
    answers = [processor.handle(*bmis.signed("alerts-replace", {
        "list_id": "sltd", "kind": "document", "version": 1, "part": k, "parts": 2,
        "entries": docs(k * 10, 3)})) for k in (1, 2)]
    assert [a["status"] for a in answers] == ["ack", "ack"]
    assert [a["result"]["complete"] for a in answers] == [False, True]
    assert answers[1]["result"]["entry_count"] == 6 and alerts.check_document("UTO", "N21")
    json.dumps(answers)
    alerts.close(), journal.close()
