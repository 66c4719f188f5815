"""Property tests: composed MRZs parse back; single slips are caught or repaired; fuzz is safe."""
from __future__ import annotations

import os
import string
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from firmware_app.mrz import LAYOUTS, MrzFields, MrzFormat, MrzUnreadable, compose, parse
from firmware_app.mrz.charset import VALUES
from firmware_app.mrz.countries import COUNTRY_CODES
from firmware_app.mrz.doccodes import PASSPORT_TYPES
from firmware_app.mrz.formats import FIELD_CHECKS, FIELD_CLASSES
from firmware_app.mrz.repair import CONFUSIONS
from mrz_helpers import TODAY

ALNUM = string.ascii_uppercase + string.digits
MRZ_ALPHABET = ALNUM + "<"
# Modest by default to keep the suite fast; raise MRZ_PROPERTY_EXAMPLES for a deeper soak run.
SETTINGS = settings(max_examples=int(os.environ.get("MRZ_PROPERTY_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
NAME_WIDTH = {"TD1": 30, "TD2": 31, "TD3": 39, "MRVA": 39, "MRVB": 31}
OPTIONAL_WIDTH = {"TD1": 15, "TD2": 7, "TD3": 14, "MRVA": 16, "MRVB": 8}


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


@st.composite
def documents(draw, fmt: str):
    """A valid document of format `fmt` and the fields it was composed from."""
    code = {"TD3": "P" + draw(st.sampled_from("<" + "".join(PASSPORT_TYPES))),
            "MRVA": "V" + draw(st.sampled_from("<ABC")), "MRVB": "V<"}.get(fmt)
    if code is None:
        code = draw(st.sampled_from("AIC")) + draw(st.sampled_from("<DP"))
    long_ok = fmt in ("TD1", "TD2")
    number = draw(st.text(ALNUM, min_size=1, max_size=(14 if fmt == "TD1" else 12) if long_ok else 9))
    room = OPTIONAL_WIDTH[fmt] - (len(number) - 7 if len(number) > 9 else 0)
    optional = draw(st.text(MRZ_ALPHABET, max_size=room)).rstrip("<")
    born = draw(st.dates(TODAY - timedelta(days=99 * 365), TODAY))
    expires = draw(st.dates(max(born, TODAY - timedelta(days=50 * 365)), TODAY + timedelta(days=19 * 365)))
    primary = draw(st.lists(st.text(string.ascii_uppercase, min_size=1, max_size=8), min_size=1, max_size=3))
    secondary = draw(st.lists(st.text(string.ascii_uppercase, min_size=1, max_size=8), max_size=3))
    fields = MrzFields(
        document_code=code, issuing_state=draw(st.sampled_from(sorted(COUNTRY_CODES))),
        document_number=number, birth_date=_yymmdd(born), sex=draw(st.sampled_from("MF<")),
        expiry_date=_yymmdd(expires), nationality=draw(st.sampled_from(sorted(COUNTRY_CODES))),
        primary_identifier=" ".join(primary), secondary_identifier=" ".join(secondary),
        optional_data=optional,
        optional_data_2=draw(st.text(MRZ_ALPHABET, max_size=11)).rstrip("<") if fmt == "TD1" else "")
    name_length = len(" ".join(primary)) + (2 + len(" ".join(secondary)) if secondary else 0)
    if name_length >= NAME_WIDTH[fmt]:  # keep a trailing filler: a full field reads as truncated
        fields = replace(fields, primary_identifier=primary[0], secondary_identifier="")
    return fmt, fields, born, expires


any_document = st.sampled_from([f.value for f in MrzFormat]).flatmap(documents)


@SETTINGS
@given(any_document)
def test_composed_documents_parse_back_to_their_fields(document):
    fmt, fields, born, expires = document
    result = parse(compose(fmt, fields), today=TODAY)
    assert result.valid, result.errors
    assert result.format is MrzFormat(fmt)
    assert not result.repairs
    expected = {"document_code": fields.document_code.rstrip("<"), "issuing_state": fields.issuing_state,
                "document_number": fields.document_number, "nationality": fields.nationality,
                "birth_date_iso": born, "expiry_date_iso": expires, "sex": fields.sex,
                "optional_data": fields.optional_data,
                "primary_identifier": fields.primary_identifier,
                "secondary_identifier": fields.secondary_identifier}
    assert {key: getattr(result, key) for key in expected} == expected
    if fmt == "TD1":
        assert result.optional_data_2 == fields.optional_data_2
    seed_number = fields.document_number if len(fields.document_number) > 9 else fields.document_number.ljust(9, "<")
    assert result.mrz_information.startswith(seed_number)
    assert len(result.mrz_information) == len(seed_number) + 1 + 14


def _checked_columns(fmt: str) -> list[tuple[int, int, str]]:
    """(line, column, field) of every character some check digit covers."""
    layout = LAYOUTS[MrzFormat(fmt)]
    names = {n for pair in FIELD_CHECKS.values() if pair[1] in layout.fields for n in pair}
    names |= {"composite_cd"} & set(layout.fields)
    if layout.long_number_field:
        names.add(layout.long_number_field)
    cells = {(s.line, c): n for n in names for s in [layout.fields[n]] for c in range(s.start, s.end)}
    for span in layout.composite:
        for column in range(span.start, span.end):
            cells.setdefault((span.line, column), next(
                n for n, s in layout.fields.items() if s.line == span.line and s.start <= column < s.end))
    return sorted((line, column, name) for (line, column), name in cells.items())


def _invisible(old: str, new: str, field: str) -> bool:
    """A change no 7-3-1 check digit can see: values equal modulo 10, both allowed in the field."""
    return new in FIELD_CLASSES[field].value and (VALUES[new] - VALUES[old]) % 10 == 0


@SETTINGS
@given(any_document, st.data())
def test_single_slip_is_detected_or_repaired_never_accepted_wrong(document, data):
    fmt, fields, _, _ = document
    lines = compose(fmt, fields)
    line, column, field = data.draw(st.sampled_from(_checked_columns(fmt)))
    old = lines[line][column]
    new = data.draw(st.sampled_from(MRZ_ALPHABET.replace(old, "")))
    broken = list(lines)
    broken[line] = lines[line][:column] + new + lines[line][column + 1:]
    result = parse(tuple(broken), today=TODAY)
    if result.valid and result.lines != lines:
        # Wrong data is accepted only when no check digit could see the slip (issue 9: an
        # unconfirmed repair used to be valid too; now it is only a chip key candidate).
        assert _invisible(old, new, field) and not result.repairs, (field, old, new)
    if result.repairs:
        assert result.valid and result.lines == lines
        assert all(r.verified for r in result.repairs)


@SETTINGS
@given(any_document, st.data())
def test_single_ocr_confusion_is_repaired_exactly_or_detected(document, data):
    fmt, fields, _, _ = document
    lines = compose(fmt, fields)
    slips = [(line, column, field, alt) for line, column, field in _checked_columns(fmt)
             for alt in CONFUSIONS.get(lines[line][column], ())]
    if not slips:
        return
    line, column, field, new = data.draw(st.sampled_from(slips))
    broken = list(lines)
    broken[line] = lines[line][:column] + new + lines[line][column + 1:]
    result = parse(tuple(broken), today=TODAY)
    if result.valid and result.lines != lines:
        assert _invisible(lines[line][column], new, field), (field, lines[line][column], new)
    if result.repairs:
        assert result.lines == lines


@SETTINGS
@given(any_document, st.data())
def test_single_corruption_anywhere_is_never_valid_with_invented_data(document, data):
    """Issue 9: whatever one character turns into, wherever it is, parse never returns a valid
    MRZ whose data differs from both the original and what was read; every repair it applies
    restores the original exactly; every candidate it offers stays invalid until the chip
    confirms it."""
    fmt, fields, _, _ = document
    lines = compose(fmt, fields)
    line = data.draw(st.integers(0, len(lines) - 1))
    column = data.draw(st.integers(0, len(lines[line]) - 1))
    # The document code is covered by no check digit: a visa's V misread as A is a TD2 ID card, whose
    # last character is a check digit (an 'I' there is then repaired to '1'). No parser can tell;
    # DG1 equality at the chip does. So that pair of columns is outside this property.
    assume(not (line == 0 and column < 2))
    old = lines[line][column]
    new = data.draw(st.sampled_from(MRZ_ALPHABET.replace(old, "")))
    broken = tuple(lines[i] if i != line else lines[i][:column] + new + lines[i][column + 1:]
                   for i in range(len(lines)))
    result = parse(broken, today=TODAY)
    assert all(not candidate.valid for candidate in result.candidates)
    if result.valid:
        assert result.lines in (lines, broken)
        assert not result.repairs or (result.lines == lines and all(r.verified for r in result.repairs))
    checked = {(ln, col): name for ln, col, name in _checked_columns(fmt)}
    if result.valid and result.lines != lines and (line, column) in checked:
        assert _invisible(old, new, checked[(line, column)]), (checked[(line, column)], old, new)


@SETTINGS
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.lists(st.text(MRZ_ALPHABET + "x\n", max_size=50), max_size=4)))
def test_arbitrary_input_never_raises_anything_but_unreadable(value):
    try:
        parse(value, today=TODAY)
    except MrzUnreadable:
        pass


@SETTINGS
@given(st.sampled_from([(2, 44), (2, 36), (3, 30)]).flatmap(
    lambda shape: st.lists(st.text(MRZ_ALPHABET, min_size=shape[1], max_size=shape[1]),
                           min_size=shape[0], max_size=shape[0])),
    st.dates(date(1990, 1, 1), date(2090, 1, 1)))
def test_mrz_shaped_noise_is_analysed_without_crashing(lines, today):
    result = parse(lines, today=today, max_repairs=2)
    assert isinstance(result.to_json(), dict)
    assert result.valid is (not result.errors)
