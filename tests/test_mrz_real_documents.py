"""Issue 9: real documents that strict ICAO reading refused, each decided explicitly (README,
"MRZ decisions"): accepted with a named warning, or refused with a specific reason."""
from __future__ import annotations

from datetime import date

import pytest

from firmware_app.mrz import IssueCode, MrzFormat, check_digit, parse
from firmware_app.policy import Evidence, InMemoryAlertLists, PolicyContext, ReasonCode, decide
from lane_helpers import good_chip, good_face
from mrz_helpers import TODAY, specimen


def _with(lines, line, start, text):
    changed = list(lines)
    changed[line] = changed[line][:start] + text + changed[line][start + len(text):]
    return tuple(changed)


def test_name_without_primary_identifier_is_accepted_with_a_warning():
    # as on some Indian passports: the single name printed as given names, the surname empty
    lines = _with(specimen("TD3"), 0, 5, "<<RAJ<KUMAR".ljust(39, "<"))
    result = parse(lines, today=TODAY)
    assert result.valid, result.errors
    assert result.has_issue(IssueCode.NO_PRIMARY_IDENTIFIER)
    assert (result.primary_identifier, result.secondary_identifier) == ("", "RAJ KUMAR")


def test_name_field_with_no_name_at_all_is_refused():
    result = parse(_with(specimen("TD3"), 0, 5, "<" * 39), today=TODAY)
    assert not result.valid
    assert [(i.code, i.field) for i in result.errors] == [(IssueCode.MISSING_FIELD, "name")]


def _german_temporary_passport() -> tuple[str, str]:
    """TD2 size, document code P, issuing state D (check digits computed, data fictional)."""
    number, born, expires = "F1234567<", "830812", "290807"
    second = (number + check_digit(number) + "D<<" + born + check_digit(born) + "F" + expires
              + check_digit(expires) + "<<<<<<<")
    composite = second[0:10] + second[13:20] + second[21:35]
    return ("P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<", second + check_digit(composite))


def test_german_temporary_passport_td2_with_code_p_is_accepted_with_a_warning():
    result = parse(_german_temporary_passport(), today=TODAY)
    assert result.format is MrzFormat.TD2 and result.document_code == "P"
    assert result.valid, result.errors
    assert result.has_issue(IssueCode.PASSPORT_IN_TD2_LAYOUT)


def test_other_letters_stay_refused_on_td2():
    lines = _german_temporary_passport()
    result = parse(("V" + lines[0][1:], lines[1]), today=TODAY)    # a visa code on a TD2 card
    assert result.format is MrzFormat.MRVB or IssueCode.BAD_DOCUMENT_CODE in {i.code for i in result.errors}
    result = parse(("X" + lines[0][1:], lines[1]), today=TODAY, repair=False)
    assert IssueCode.BAD_DOCUMENT_CODE in {i.code for i in result.errors}


def test_no_expiry_is_accepted_with_a_warning_and_the_policy_refers():
    # some national ID cards for seniors print no expiry: six fillers, check digit 0
    lines = specimen("TD1", expiry_date="<<<<<<")
    result = parse(lines, today=TODAY)
    assert result.valid, result.errors
    assert result.expiry_date_iso is None and result.has_issue(IssueCode.EXPIRY_NOT_STATED)
    decision = decide(Evidence(result, good_chip(), good_face()), PolicyContext(today=TODAY),
                      InMemoryAlertLists())
    assert decision.reasons == (ReasonCode.EXPIRY_NOT_STATED,) and not decision.passed


_EXPIRY_CD = {"TD1": (1, 14), "TD2": (1, 27), "TD3": (1, 27)}


@pytest.mark.parametrize("fmt", sorted(_EXPIRY_CD))
def test_no_expiry_may_carry_a_filler_check_digit(fmt):
    # ICAO 9303-3 4.9: an all-filler field's check digit may be '<'; the composite weighs it 0 like '0'
    line, column = _EXPIRY_CD[fmt]
    zero = specimen(fmt, expiry_date="<<<<<<")
    assert zero[line][column - 6:column + 1] == "<<<<<<0"
    filler = _with(zero, line, column, "<")
    result = parse(filler, today=TODAY, repair=False)
    assert result.valid, result.errors
    assert dict(result.checks)["expiry_date"] is True and dict(result.checks).get("composite") in (True, None)
    assert result.has_issue(IssueCode.EXPIRY_NOT_STATED) and result.expiry_date_iso is None
    assert result.mrz_information.endswith("<<<<<<<")      # the BAC seed takes the printed '<'
    assert parse(filler, today=TODAY).repairs == ()


def test_a_filler_check_digit_after_a_stated_expiry_is_a_check_digit_error():
    lines = _with(specimen("TD3"), 1, 27, "<")
    result = parse(lines, today=TODAY, repair=False)
    assert not result.valid and ("expiry_date", False) in result.checks


def test_partly_missing_expiry_is_still_an_error():
    result = parse(specimen("TD3", expiry_date="32<<<<"), today=TODAY, repair=False)
    assert not result.valid and IssueCode.INVALID_DATE in {i.code for i in result.errors}


def test_expiry_more_than_20_years_ahead_is_not_before_birth():
    # born 1990, expires 2050 (24 years ahead): was read as 1950, "expiry date before birth date"
    result = parse(specimen("TD1", birth_date="900101", expiry_date="500101"), today=TODAY)
    assert result.valid, result.errors
    assert result.birth_date_iso == date(1990, 1, 1) and result.expiry_date_iso == date(2050, 1, 1)
    assert result.has_issue(IssueCode.EXPIRY_FAR_FUTURE)
    assert not result.has_issue(IssueCode.DATES_INCONSISTENT)


def test_birth_stays_past_leaning_and_old_expiries_still_expired():
    result = parse(specimen("TD3", birth_date="270101", expiry_date="700101"), today=TODAY)
    assert result.birth_date_iso == date(1927, 1, 1)        # never in the future
    assert result.expiry_date_iso == date(2070, 1, 1)      # up to 50 years back, else ahead
    old = parse(specimen("TD3", birth_date="500101", expiry_date="770101"), today=TODAY)
    assert old.expiry_date_iso == date(1977, 1, 1) and old.has_issue(IssueCode.EXPIRED)


def test_expiry_before_birth_is_still_an_error():
    result = parse(specimen("TD3", birth_date="800101", expiry_date="790101"), today=TODAY)
    assert IssueCode.DATES_INCONSISTENT in {i.code for i in result.errors}


def test_a_single_name_printed_as_given_names_is_still_found_on_a_person_list():
    # the person list holds the mononym as the primary identifier; the MRZ prints it as '<<KUMAR'
    from firmware_app.policy.alerts import PersonEntry
    lines = _with(specimen("TD3"), 0, 5, "<<KUMAR".ljust(39, "<"))
    result = parse(lines, today=TODAY)
    assert result.valid and result.primary_identifier == ""
    lists = InMemoryAlertLists(persons=[PersonEntry("p9", "KUMAR", "", date(1974, 8, 12))])
    decision = decide(Evidence(result, good_chip(), good_face()), PolicyContext(today=TODAY), lists)
    assert ReasonCode.ALERT_LIST_HIT in decision.reasons and len(decision.alert_hits) == 1
