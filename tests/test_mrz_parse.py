"""Field rules of ICAO 9303 Parts 3-7 as the parser applies them."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from firmware_app.mrz import IssueCode, MrzBadCharset, MrzFormat, MrzTooLarge, MrzUnreadable, MrzWrongLength, parse
from firmware_app.mrz.countries import ISO_3166_ALPHA3
from mrz_helpers import TODAY, specimen

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def codes(result):
    return {issue.code for issue in result.errors}, {issue.code for issue in result.warnings}


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "TD3", "MRVA", "MRVB"])
def test_every_format_round_trips(fmt):
    result = parse(specimen(fmt), today=TODAY)
    assert result.format is MrzFormat(fmt)
    assert result.valid, result.errors
    assert (result.document_number, result.primary_identifier) == ("L898902C3", "ERIKSSON")
    assert result.secondary_identifier == "ANNA MARIA"
    assert result.birth_date_iso == date(1974, 8, 12) and result.expiry_date_iso == date(2032, 4, 15)
    assert result.optional_data_2 == ("" if fmt == "TD1" else None)


def test_json_has_exactly_the_contract_fields():
    data = parse(TD3, today=TODAY).to_json()
    assert list(data) == [
        "format", "document_code", "issuing_state", "document_number", "nationality", "birth_date",
        "birth_date_iso", "sex", "expiry_date", "expiry_date_iso", "optional_data", "optional_data_2",
        "primary_identifier", "secondary_identifier", "checks", "valid", "errors", "warnings",
        "repairs", "mrz_information", "candidates"]
    assert data["checks"] == {"document_number": True, "birth_date": True, "expiry_date": True,
                              "optional_data": True, "composite": True}
    json.dumps(data)


def test_repr_hides_personal_data():
    text = repr(parse(TD3, today=TODAY))
    assert "ERIKSSON" not in text and "L898902C" not in text


def test_input_shapes_all_accepted():
    joined = parse("\r\n".join(TD3) + "\r\n", today=TODAY)
    one_line = parse(TD3[0] + TD3[1], today=TODAY)
    as_bytes = parse([line.encode() for line in TD3], today=TODAY)
    padded = parse("  " + TD3[0] + " \n\n " + TD3[1] + "\t", today=TODAY)
    assert joined.to_json() == one_line.to_json() == as_bytes.to_json() == padded.to_json()


@pytest.mark.parametrize("bad, error", [
    ("", MrzWrongLength), (TD3[0], MrzWrongLength), ((TD3[0], TD3[1][:-1]), MrzWrongLength),
    ((TD3[0].lower(), TD3[1]), MrzBadCharset), ((TD3[0], TD3[1].replace("F", "É")), MrzBadCharset),
    ((TD3[0], TD3[1][:20] + "\x07" + TD3[1][21:]), MrzBadCharset), ((TD3[0], b"\xff" * 44), MrzBadCharset),
    ("P" * 10_000_000, MrzTooLarge), ([TD3[0]] * 100, MrzTooLarge), (12345, MrzUnreadable),
    ([TD3[0], None], MrzUnreadable), ((TD3[0], TD3[1].replace("<", " ")), MrzBadCharset),
])
def test_unreadable_input_gets_a_typed_error(bad, error):
    with pytest.raises(error) as caught:
        parse(bad, today=TODAY)
    assert "ERIKSSON" not in str(caught.value)


def test_check_digit_failure_is_reported_per_check():
    broken = (TD3[0], TD3[1][:9] + "7" + TD3[1][10:])
    result = parse(broken, today=TODAY, repair=False)
    assert not result.valid
    assert result.check("document_number") is False and result.check("composite") is False
    assert result.check("birth_date") is True


def test_td3_optional_check_digit_may_be_filler_when_empty():
    lines = specimen("TD3", optional_data="")
    assert lines[1][42] == "<"
    result = parse(lines, today=TODAY)
    assert result.valid and result.check("optional_data") is True
    zero = (lines[0], lines[1][:42] + "0" + lines[1][43])
    assert parse(zero, today=TODAY).valid


def test_filler_check_digit_with_optional_data_fails():
    lines = specimen("TD3")
    broken = (lines[0], lines[1][:42] + "<" + lines[1][43])
    assert parse(broken, today=TODAY, repair=False).check("optional_data") is False


@pytest.mark.parametrize("fmt", ["TD1", "TD2"])
def test_long_document_number(fmt):
    lines = specimen(fmt, document_number="D23145890734", optional_data="AB")
    assert lines[0 if fmt == "TD1" else 1][14 if fmt == "TD1" else 9] == "<"
    result = parse(lines, today=TODAY)
    assert result.valid, result.errors
    assert result.document_number == "D23145890734"
    assert result.optional_data == "AB"
    assert result.mrz_information.startswith("D23145890734" + "9")
    assert not result.warnings


def test_part5_long_number_example_check_digit():
    lines = ("I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2", "STEVENSON<<PETER<JOHN<<<<<<<<<")
    result = parse(lines, today=TODAY, repair=False)
    assert result.document_number == "D23145890734" and result.check("document_number") is True


@pytest.mark.parametrize("fmt", ["TD1", "TD2"])
def test_long_number_filler_deviation_is_flagged_not_silent(fmt):
    # For this number the two computations differ (for ...734 they happen to agree).
    lines = specimen(fmt, document_number="D23145890735", long_number_filler_in_check=True)
    result = parse(lines, today=TODAY)
    assert result.valid and result.document_number == "D23145890735"
    assert IssueCode.LONG_NUMBER_DEVIATION in codes(result)[1]
    assert result.check("document_number") is True


def test_long_number_without_continuation_is_an_error():
    lines = ("I<UTOD23145890<<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    result = parse(lines, today=TODAY, repair=False)
    assert IssueCode.LONG_NUMBER_MALFORMED in codes(result)[0]


def test_td3_cannot_carry_a_long_number():
    lines = specimen("TD3")
    broken = (lines[0], lines[1][:9] + "<" + lines[1][10:])
    assert not parse(broken, today=TODAY).valid


@pytest.mark.parametrize("raw, today, expected", [
    ("261126", date(2026, 11, 26), date(2026, 11, 26)),   # born today
    ("261127", date(2026, 11, 26), date(1926, 11, 27)),   # tomorrow would be the future
    ("000229", date(2026, 1, 1), date(2000, 2, 29)),
    ("991231", date(2026, 1, 1), date(1999, 12, 31)),
])
def test_birth_century_is_never_in_the_future(raw, today, expected):
    lines = specimen("TD3", birth_date=raw, expiry_date="400101")
    assert parse(lines, today=today).birth_date_iso == expected


@pytest.mark.parametrize("raw, years, expected, far", [
    ("460101", 20, date(2046, 1, 1), False), ("470101", 20, date(2047, 1, 1), True),
    ("470101", 21, date(2047, 1, 1), False), ("760101", 20, date(1976, 1, 1), False),
    ("750101", 20, date(2075, 1, 1), True),
])
def test_expiry_century_leans_to_the_future_and_the_limit_only_warns(raw, years, expected, far):
    # issue 9: an expiry more than expiry_future_years ahead was read a century back
    lines = specimen("TD3", birth_date="<<<<<<", expiry_date=raw)
    result = parse(lines, today=TODAY, expiry_future_years=years)
    assert result.expiry_date_iso == expected and result.valid
    assert result.has_issue(IssueCode.EXPIRY_FAR_FUTURE) is far


def test_expired_is_a_warning_not_an_error():
    result = parse(TD3, today=TODAY)
    assert result.valid and IssueCode.EXPIRED in codes(result)[1]


@pytest.mark.parametrize("raw", ["<<<<<<", "74<<<<", "7408<<", "<<0812"])
def test_unknown_birth_date_parts(raw):
    result = parse(specimen("TD3", birth_date=raw), today=TODAY)
    assert result.valid and result.birth_date_iso is None and result.birth_date == raw
    assert IssueCode.BIRTH_DATE_INCOMPLETE in codes(result)[1]


@pytest.mark.parametrize("field, raw", [("birth_date", "741312"), ("expiry_date", "320231"),
                                        ("expiry_date", "32<<<<")])
def test_impossible_dates_are_errors(field, raw):
    result = parse(specimen("TD3", **{field: raw}), today=TODAY, repair=False)
    assert not result.valid
    assert any(i.field == field for i in result.errors)


def test_expiry_before_birth_is_an_error():
    result = parse(specimen("TD3", birth_date="100101", expiry_date="050101"), today=TODAY)
    assert IssueCode.DATES_INCONSISTENT in codes(result)[0]


@pytest.mark.parametrize("sex, valid, warning", [("M", True, False), ("F", True, False),
                                                 ("<", True, False), ("X", True, True), ("Q", False, False)])
def test_sex(sex, valid, warning):
    result = parse(specimen("TD3", sex=sex), today=TODAY)
    assert result.valid is valid and (IssueCode.SEX_X in codes(result)[1]) is warning


@pytest.mark.parametrize("code, valid", [("D", True), ("XXA", True), ("EUE", True), ("GBN", True),
                                         ("UNK", True), ("RKS", True), ("DEU", True), ("ZZZ", False),
                                         ("YTO", False), ("DE", False)])
def test_country_codes(code, valid):
    result = parse(specimen("TD3", issuing_state=code, nationality=code), today=TODAY)
    assert result.valid is valid
    assert result.issuing_state == code


def test_country_table_matches_debian_iso_codes():
    source = Path("/usr/share/iso-codes/json/iso_3166-1.json")
    if not source.exists():
        pytest.skip("Debian iso-codes not installed")
    codes_3166 = {entry["alpha_3"] for entry in json.loads(source.read_text())["3166-1"]}
    assert codes_3166 == ISO_3166_ALPHA3


@pytest.mark.parametrize("fmt, code, valid, unusual", [
    ("TD3", "P", True, False), ("TD3", "PD", True, False), ("TD3", "PO", True, False),
    ("TD3", "PQ", True, True), ("TD3", "I", False, False), ("TD1", "ID", True, False),
    ("TD1", "AC", True, False), ("TD2", "AC", False, False), ("TD1", "IV", False, False),
    ("TD2", "C", True, False), ("MRVA", "VD", True, False), ("TD1", "P", False, False),
])
def test_document_codes(fmt, code, valid, unusual):
    result = parse(specimen(fmt, document_code=code), today=TODAY)
    assert result.valid is valid
    assert (IssueCode.UNUSUAL_DOCUMENT_CODE in codes(result)[1]) is unusual


def test_names_split_into_components():
    result = parse(specimen("TD3", primary_identifier="DE LA CRUZ", secondary_identifier="JOSE  LUIS"),
                   today=TODAY)
    assert (result.primary_identifier, result.secondary_identifier) == ("DE LA CRUZ", "JOSE LUIS")


def test_full_name_field_is_flagged_as_possibly_truncated():
    result = parse(specimen("TD3", primary_identifier="A" * 30, secondary_identifier="B" * 20),
                   today=TODAY)
    assert result.valid and IssueCode.NAME_TRUNCATED in codes(result)[1]
    assert result.secondary_identifier == "B" * 7


def test_missing_primary_identifier_warns_and_digit_in_name_is_an_error():
    lines = specimen("TD3")
    given_only = parse(("P<UTO<<ANNA" + "<" * 33, lines[1]), today=TODAY)
    assert given_only.valid and given_only.has_issue(IssueCode.NO_PRIMARY_IDENTIFIER)   # decision: issue 9
    assert not parse(("P<UTOERIK5SON" + "<" * 31, lines[1]), today=TODAY).valid
