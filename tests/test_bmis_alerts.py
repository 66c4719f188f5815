"""Alert-list store: replace, delta, version conflicts, persistence, matching, protocol conformance."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.alerts.entries import ListKind
from firmware_app.bmis.alerts.store import AlertStore
from firmware_app.bmis.errors import AlertListInvalid, AlertVersionConflict
from firmware_app.policy.alerts import AlertListKind, InMemoryAlertLists, PersonEntry
from firmware_app.policy.errors import AlertListUnavailable, AlertQueryInvalid

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def clock():
    return NOW


def doc(entry_id, state="UTO", number="L898902C3", category="stolen"):
    return {"id": entry_id, "issuing_state": state, "number": number, "category": category}


def person(entry_id, primary, secondary="", birth="1970-03-15", category="wanted"):
    return {"id": entry_id, "primary": primary, "secondary": secondary, "birth_date": birth,
            "category": category}


@pytest.fixture
def store(tmp_path):
    s = AlertStore.open(tmp_path / "alerts.db", clock)
    yield s
    s.close()


def test_replace_then_document_hit(store):
    assert store.replace("sltd", "document", 1, [doc("E1"), doc("E2", "D", "C01X00T47")]) == 2
    hits = store.check_document("UTO", "L898902C3<")
    assert [(h.kind, h.list_id, h.list_version, h.entry_id, h.category) for h in hits] == [
        (AlertListKind.DOCUMENT, "sltd", "1", "E1", "stolen")]
    assert store.check_document("D<<", "C01X00T47")[0].entry_id == "E2"
    assert store.check_document("UTO", "OTHER") == ()


def test_replace_swaps_whole_list(store):
    store.replace("sltd", "document", 1, [doc("E1")])
    store.replace("sltd", "document", 2, [doc("E9", number="X1")])
    assert store.check_document("UTO", "L898902C3") == ()
    assert store.check_document("UTO", "X1")[0].list_version == "2"
    assert store.versions() == {"sltd": 2}


def test_replace_must_increase_version(store):
    store.replace("sltd", "document", 5, [doc("E1")])
    with pytest.raises(AlertVersionConflict):
        store.replace("sltd", "document", 5, [doc("E2", number="X")])
    with pytest.raises(AlertVersionConflict):
        store.replace("sltd", "document", 4, [])
    assert store.check_document("UTO", "L898902C3")[0].entry_id == "E1"


def test_list_keeps_its_kind(store):
    store.replace("sltd", "document", 1, [doc("E1")])
    with pytest.raises(AlertListInvalid, match="holds document"):
        store.replace("sltd", "person", 2, [person("P1", "X")])


def test_delta_adds_removes_and_upserts(store):
    store.replace("sltd", "document", 1, [doc("E1"), doc("E2", number="B2"), doc("E3", number="C3")])
    size = store.apply_delta("sltd", 1, 2, add=[doc("E4", number="D4"), doc("E3", number="C33")],
                             remove=["E2"])
    assert size == 3
    assert store.check_document("UTO", "B2") == ()
    assert store.check_document("UTO", "D4")[0].list_version == "2"
    assert store.check_document("UTO", "C3") == () and store.check_document("UTO", "C33")
    assert store.summary()[0]["entry_count"] == 3


def test_delta_on_wrong_base_is_a_conflict_and_changes_nothing(store):
    store.replace("sltd", "document", 3, [doc("E1")])
    with pytest.raises(AlertVersionConflict) as raised:
        store.apply_delta("sltd", 2, 4, add=[doc("E2", number="X")])
    assert (raised.value.expected, raised.value.active) == (2, 3)
    with pytest.raises(AlertVersionConflict):
        store.apply_delta("unknown-list", 1, 2, add=[])
    assert store.versions() == {"sltd": 3} and store.check_document("UTO", "X") == ()


def test_delta_removing_an_absent_id_is_refused_atomically(store):
    store.replace("sltd", "document", 1, [doc("E1")])
    with pytest.raises(AlertListInvalid, match="not in the list"):
        store.apply_delta("sltd", 1, 2, add=[doc("E2", number="X")], remove=["E1", "NOPE"])
    assert store.versions() == {"sltd": 1}
    assert store.check_document("UTO", "L898902C3") and not store.check_document("UTO", "X")


@pytest.mark.parametrize("entries, message", [
    ("not a list", "must be a list"),
    ([doc("E1"), doc("E1", number="X")], "duplicate"),
    ([{"id": "E1", "issuing_state": "UTO"}], "number"),
    ([{"id": "E1", "issuing_state": "UTOPIA", "number": "1"}], "longer"),
    ([{"id": "", "issuing_state": "UTO", "number": "1"}], "'id'"),
    ([["not", "an", "object"]], "object"),
])
def test_bad_document_entries_are_refused(store, entries, message):
    with pytest.raises(AlertListInvalid, match=message):
        store.replace("sltd", "document", 1, entries)
    assert store.versions() == {}


@pytest.mark.parametrize("birth", ["1970-13-01", "70-01-01", "1970-01-32", "1970/01/01", "XXXX-01-01"])
def test_bad_birth_dates_are_refused(store, birth):
    with pytest.raises(AlertListInvalid, match="birth_date"):
        store.replace("watch", "person", 1, [person("P1", "SMITH", birth=birth)])


@pytest.mark.parametrize("list_id, version", [("Bad Id", 1), ("ok", 0), ("ok", True), ("ok", "2")])
def test_bad_list_ids_and_versions(store, list_id, version):
    with pytest.raises(AlertListInvalid):
        store.replace(list_id, "document", version, [])


def test_state_survives_reopen(tmp_path):
    first = AlertStore.open(tmp_path / "a.db", clock)
    first.replace("sltd", "document", 1, [doc("E1")])
    first.apply_delta("sltd", 1, 2, add=[doc("E2", number="X")])
    first.close()
    second = AlertStore.open(tmp_path / "a.db", clock)
    assert second.versions() == {"sltd": 2}
    assert second.check_document("UTO", "X") and second.check_document("UTO", "L898902C3")
    assert second.summary()[0]["updated_at"] == NOW.isoformat()


def test_required_list_missing_is_unavailable(tmp_path):
    store = AlertStore.open(tmp_path / "a.db", clock, required_lists=["sltd"])
    with pytest.raises(AlertListUnavailable):
        store.check_document("UTO", "1")
    store.replace("sltd", "document", 1, [])
    assert store.check_document("UTO", "1") == ()


@pytest.mark.parametrize("listed, given", [
    ("MÜLLER", "MUELLER"), ("MÜLLER", "MULLER"), ("MUELLER", "MULLER"), ("MULLER", "MUELLER"),
    ("MUELLER", "MÜLLER"), ("Müller", "MUELLER"), ("ØSTERGÅRD", "OSTERGARD"),
    ("ØSTERGÅRD", "OESTERGAARD"), ("NUÑEZ", "NUNEZ"), ("NUÑEZ", "NUNXXEZ"), ("ЩЕРБАК", "SHCHERBAK"),
])
def test_transliterated_names_hit(store, listed, given):
    store.replace("watch", "person", 1, [person("P1", listed, "ANNA")])
    assert [h.entry_id for h in store.check_person(given, "ANNA", "700315")] == ["P1"]


def test_person_needs_matching_given_names_and_date(store):
    store.replace("watch", "person", 1, [person("P1", "MÜLLER", "ANNA MARIA")])
    assert store.check_person("MULLER", "ANNA MARIA", "700315")
    assert store.check_person("MULLER", "ANNA", "700315")          # truncated given names
    assert not store.check_person("MULLER", "PETER", "700315")
    assert not store.check_person("MULLER", "ANNA MARIA", "700316")
    assert not store.check_person("SCHMIDT", "ANNA MARIA", "700315")


def test_mononym_entry_matches_any_given_names(store):
    store.replace("watch", "person", 1, [person("P1", "SUKARNO", "")])
    assert store.check_person("SUKARNO", "ANYTHING", "700315")


@pytest.mark.parametrize("mrz_birth, hit", [
    ("700315", True), ("70<<<<", True), ("7003<<", True), ("7004<<", False), ("XX0315", True),
    ("71<<<<", False),
])
def test_unknown_parts_of_the_printed_birth_date(store, mrz_birth, hit):
    store.replace("watch", "person", 1, [person("P1", "SMITH", "JOHN")])
    assert bool(store.check_person("SMITH", "JOHN", mrz_birth)) is hit


@pytest.mark.parametrize("listed, mrz_birth, hit", [
    ("1970-XX-XX", "700315", True), ("1970-03-XX", "700331", True), ("1970-03-XX", "700415", False),
    ("1970-XX-XX", "71<<<<", False), ("1970-XX-15", "70<<<<", True),
])
def test_unknown_parts_of_the_listed_birth_date(store, listed, mrz_birth, hit):
    store.replace("watch", "person", 1, [person("P1", "SMITH", "JOHN", birth=listed)])
    assert bool(store.check_person("SMITH", "JOHN", mrz_birth)) is hit


def test_hits_from_several_lists(store):
    store.replace("sltd", "document", 1, [doc("E1")])
    store.replace("national", "document", 7, [doc("N1", category="revoked")])
    hits = store.check_document("UTO", "L898902C3")
    assert sorted((h.list_id, h.list_version, h.category) for h in hits) == [
        ("national", "7", "revoked"), ("sltd", "1", "stolen")]
    assert store.check_person("SMITH", "JOHN", "700315") == ()


@pytest.mark.parametrize("args", [
    (5, "JOHN", "700315"), ("SMITH", "JOHN", "7003"), ("SMITH", "JOHN", "70-315"),
    ("S" * 201, "", "700315"),
])
def test_bad_person_queries_are_typed_errors(store, args):
    with pytest.raises(AlertQueryInvalid):
        store.check_person(*args)


@pytest.mark.parametrize("args", [(None, "1"), ("UTO", 12345), ("UTO", "9" * 201)])
def test_bad_document_queries_are_typed_errors(store, args):
    with pytest.raises(AlertQueryInvalid):
        store.check_document(*args)


names = st.sampled_from(["MÜLLER", "MUELLER", "SMITH", "NUÑEZ", "ERIKSSON", "Øre", "O'NEILL", "LI"])
given_names = st.sampled_from(["", "ANNA", "ANNA MARIA", "JOHN", "JOSÉ"])
births = st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31))


@settings(max_examples=40, deadline=None)
@given(entries=st.lists(st.tuples(names, given_names, births), max_size=6),
       query=st.tuples(names, given_names, births), unknown_day=st.booleans())
def test_store_finds_every_hit_the_policy_reference_finds(tmp_path_factory, entries, query,
                                                          unknown_day):
    """Our matching may be wider (folded spellings), never narrower than policy.alerts."""
    store = AlertStore.open(tmp_path_factory.mktemp("a") / "a.db", clock)
    store.replace("watch", "person", 1, [person(f"P{i}", p, s, b.isoformat())
                                         for i, (p, s, b) in enumerate(entries)])
    reference = InMemoryAlertLists(persons=[PersonEntry(f"P{i}", p, s, b)
                                            for i, (p, s, b) in enumerate(entries)])
    primary, secondary, born = query
    mrz_birth = born.strftime("%y%m") + ("<<" if unknown_day else born.strftime("%d"))
    ours = {h.entry_id for h in store.check_person(primary, secondary, mrz_birth)}
    theirs = {h.entry_id for h in reference.check_person(primary, secondary, mrz_birth)}
    assert theirs <= ours
    store.close()


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["id", "issuing_state", "number", "category", "x"]),
                    st.one_of(st.text(max_size=12), st.integers(), st.none()), max_size=5),
    st.integers(), st.text(max_size=5)), max_size=4))
def test_fuzzed_entries_are_stored_or_refused_with_a_typed_error(tmp_path_factory, entries):
    store = AlertStore.open(tmp_path_factory.mktemp("f") / "a.db", clock)
    try:
        store.replace("fuzz", "document", 1, entries)
    except AlertListInvalid:
        assert store.versions() == {}
    else:
        assert store.versions() == {"fuzz": 1}
    store.close()


def test_list_kind_enum_matches_policy_kind():
    assert {k.value for k in ListKind} == {k.value for k in AlertListKind}


def test_required_list_too_old_is_unavailable(tmp_path):
    now = [NOW]
    store = AlertStore.open(tmp_path / "a.db", lambda: now[0], required_lists=["sltd"],
                            max_age=timedelta(hours=24))
    store.replace("sltd", "document", 1, [doc("E1")])
    now[0] = NOW + timedelta(hours=23)
    assert store.check_document("UTO", "L898902C3")
    now[0] = NOW + timedelta(hours=25)
    with pytest.raises(AlertListUnavailable, match="too old"):
        store.check_document("UTO", "L898902C3")
    store.apply_delta("sltd", 1, 2)  # an empty delta is how the BMIS says "still current"
    assert store.check_document("UTO", "L898902C3")
    store.close()
    reopened = AlertStore.open(tmp_path / "a.db", lambda: now[0] + timedelta(hours=25),
                               required_lists=["sltd"], max_age=timedelta(hours=24))
    with pytest.raises(AlertListUnavailable, match="too old"):
        reopened.check_person("SMITH", "JOHN", "700315")
