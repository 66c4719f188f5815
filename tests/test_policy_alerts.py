"""Alert-list helpers and the in-memory lists: normalisation, unknown birth digits, hostile input."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.policy import AlertListKind, AlertQueryInvalid, InMemoryAlertLists
from firmware_app.policy.alerts import DocumentEntry, PersonEntry, birth_dates_match, document_key

LISTS = InMemoryAlertLists([DocumentEntry("d1", "UTO", "L898902C3")],
                           [PersonEntry("p1", "MÜLLER", "", date(1974, 8, 12))], list_version="v7")


def test_document_number_filler_and_case_are_ignored():
    hit, = LISTS.check_document("uto", "L898902C3<<")
    assert hit.kind is AlertListKind.DOCUMENT and hit.list_version == "v7"
    assert LISTS.check_document("UTA", "L898902C3") == ()


@pytest.mark.parametrize("primary", ["MUELLER", "MULLER"])
def test_person_spellings_of_umlaut_match_and_empty_secondary_matches_any(primary):
    assert LISTS.check_person(primary, "HANS PETER", "740812")[0].entry_id == "p1"


@pytest.mark.parametrize("printed, matches", [
    ("740812", True), ("7408<<", True), ("74XXXX", True), ("740813", False), ("750812", False)])
def test_unknown_birth_digits_match_any(printed, matches):
    assert birth_dates_match(printed, date(1974, 8, 12)) is matches


@pytest.mark.parametrize("bad", [None, 740812, "7408", "x" * 500])
def test_malformed_birth_date_is_a_typed_error(bad):
    with pytest.raises(AlertQueryInvalid):
        LISTS.check_person("MULLER", "", bad)


def test_document_key_rejects_non_text():
    with pytest.raises(AlertQueryInvalid):
        document_key("UTO", b"L898902C3")


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=8))
def test_fuzzed_person_queries_answer_or_raise_typed(primary, secondary, birth):
    try:
        assert isinstance(LISTS.check_person(primary, secondary, birth), tuple)
    except AlertQueryInvalid:
        pass


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=10), st.text(max_size=60))
def test_fuzzed_document_queries_answer_or_raise_typed(state, number):
    try:
        assert isinstance(LISTS.check_document(state, number), tuple)
    except AlertQueryInvalid:
        pass
