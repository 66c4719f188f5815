"""Field extraction and every ICAO 9303 check for one set of MRZ lines (pure; `today` injected)."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from .charset import check_digit
from .countries import COUNTRY_CODES
from .dates import DateStatus, infer_birth_date, infer_expiry_date, years_after
from .doccodes import CodeVerdict, check_document_code
from .formats import FIELD_CLASSES, LAYOUTS, CharClass, Layout, composite_input
from .result import Issue, IssueCode, MrzResult


@lru_cache(maxsize=512)
def _issue(code: IssueCode, field: str | None, message: str) -> Issue:
    # Issues are immutable and their texts mostly fixed: reuse them instead of rebuilding per read.
    return Issue(code, field, message)


class _Findings:
    """Errors and warnings collected during one analysis."""
    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, code: IssueCode, field: str | None, message: str) -> None:
        self.errors.append(_issue(code, field, message))

    def warn(self, code: IssueCode, field: str | None, message: str) -> None:
        self.warnings.append(_issue(code, field, message))


class DocumentNumber(NamedTuple):
    number: str        # as reported: fillers trimmed, long numbers joined
    key: str           # as it enters the BAC key seed: 9 printed characters, or the long number
    check_digit: str
    optional_rest: str  # optional data after a long number's continuation
    ok: bool


# (name, line, start, end) per layout: plain tuples make the per-read slicing cheaper.
_FLAT = {fmt: tuple((n, s.line, s.start, s.end) for n, s in lay.fields.items())
         for fmt, lay in LAYOUTS.items()}


def extract(lines: tuple[str, ...], layout: Layout) -> dict[str, str]:
    return {name: lines[line][start:end] for name, line, start, end in _FLAT[layout.format]}


def analyse(lines: tuple[str, ...], layout: Layout, today: date, future_years: int) -> MrzResult:
    found = _Findings()
    raw = clean_fields(lines, layout)
    if raw is None:
        raw = extract(lines, layout)
        _report_bad_characters(raw, layout, found)
    doc = _document_number(raw, layout, found)
    checks = _checks(raw, lines, layout, doc.ok, found)
    born, expires = _dates(raw, today, future_years, found)
    _check_codes(raw, layout, found)
    _check_name_and_sex(raw, found)
    return MrzResult(
        format=layout.format, lines=lines,
        document_code=raw["document_code"].rstrip("<"),
        issuing_state=raw["issuing_state"].rstrip("<"),
        document_number=doc.number,
        nationality=raw["nationality"].rstrip("<"),
        birth_date=raw["birth_date"], birth_date_iso=born,
        sex=raw["sex"], expiry_date=raw["expiry_date"], expiry_date_iso=expires,
        optional_data=doc.optional_rest,
        optional_data_2=raw["optional_data_2"].rstrip("<") if "optional_data_2" in raw else None,
        name_field=raw["name"],
        checks=checks, errors=tuple(found.errors), warnings=tuple(found.warnings), repairs=(),
        mrz_information=(doc.key + doc.check_digit + raw["birth_date"] + raw["birth_date_cd"]
                         + raw["expiry_date"] + raw["expiry_date_cd"]),
    )


_ALLOWED = {name: cls.value for name, cls in FIELD_CLASSES.items()}
_REGEX_CLASS = {CharClass.DIGIT: "[0-9]", CharClass.DIGIT_OR_FILLER: "[0-9<]",
                CharClass.ALPHA: "[A-Z<]", CharClass.ALNUM: "[A-Z0-9<]", CharClass.SEX: "[MFX<]"}


def _line_patterns(layout: Layout) -> tuple[re.Pattern[str], ...]:
    """One pattern per line with a named group per field, built from the layout: a clean MRZ is
    class-checked and cut into fields by one C-level match per line."""
    patterns = []
    for line in range(layout.line_count):
        spans = sorted((s.start, s.end, n) for n, s in layout.fields.items() if s.line == line)
        parts = [f"(?P<{n}>{_REGEX_CLASS[FIELD_CLASSES[n]]}{{{end - start}}})" for start, end, n in spans]
        patterns.append(re.compile("".join(parts)))
    return tuple(patterns)


_PATTERNS = {fmt: _line_patterns(layout) for fmt, layout in LAYOUTS.items()}


def bad_columns(raw: dict[str, str], layout: Layout) -> list[tuple[str, int]]:
    """(field, offset in field) of every character outside its field's character class."""
    bad: list[tuple[str, int]] = []
    for name, text in raw.items():
        allowed = _ALLOWED[name]
        if not allowed.issuperset(text):
            bad.extend((name, i) for i, c in enumerate(text) if c not in allowed)
    return bad


def clean_fields(lines: tuple[str, ...], layout: Layout) -> dict[str, str] | None:
    """Fields by name when every character fits its field's class, else None."""
    fields: dict[str, str] = {}
    for pattern, line in zip(_PATTERNS[layout.format], lines):
        match = pattern.fullmatch(line)
        if match is None:
            return None
        fields.update(match.groupdict())
    return fields


def _report_bad_characters(raw: dict[str, str], layout: Layout, found: _Findings) -> None:
    for name, offset in bad_columns(raw, layout):
        if name == "sex":
            continue  # reported as BAD_SEX with its own message
        span = layout.fields[name]
        found.error(IssueCode.BAD_CHARACTER, name,
                    f"line {span.line + 1}, column {span.start + offset + 1}: character not allowed here")


def _document_number(raw: dict[str, str], layout: Layout, found: _Findings) -> DocumentNumber:
    doc, cd, optional = raw["document_number"], raw["document_number_cd"], raw["optional_data"]
    if layout.long_number_field and cd == "<" and doc[-1] != "<":
        return _long_document_number(doc, optional, found)
    if doc.strip("<") == "":
        found.error(IssueCode.MISSING_FIELD, "document_number", "document number is empty")
    return DocumentNumber(doc.rstrip("<"), doc, cd, optional.rstrip("<"), cd == check_digit(doc))


def _long_document_number(doc: str, optional: str, found: _Findings) -> DocumentNumber:
    """Parts 5/6: number continues in the optional data, then its check digit, then a filler."""
    end = optional.find("<")
    if end < 1:
        found.error(IssueCode.LONG_NUMBER_MALFORMED, "document_number",
                    "check digit position holds '<' but the optional data has no number continuation")
        return DocumentNumber(doc, doc, "<", optional.rstrip("<"), False)
    extension, cd = optional[:end - 1], optional[end - 1]
    number = doc + extension
    ok = cd == check_digit(number)
    if not ok and cd == check_digit(doc + "<" + extension):
        ok = True
        found.warn(IssueCode.LONG_NUMBER_DEVIATION, "document_number",
                   "issuer deviation: filler included in the long number's check digit")
    elif ok and not extension:
        found.warn(IssueCode.LONG_NUMBER_DEVIATION, "document_number",
                   "issuer deviation: 9-character number with its check digit in the optional data")
    return DocumentNumber(number, number, cd, optional[end + 1:].rstrip("<"), ok)


def _checks(raw: dict[str, str], lines: tuple[str, ...], layout: Layout, doc_ok: bool,
            found: _Findings) -> tuple[tuple[str, bool | None], ...]:
    """(check name, True/False, or None when the format has no such check), in CHECK_NAMES order."""
    optional_ok = composite_ok = None
    if "optional_data_cd" in raw:
        cd, data = raw["optional_data_cd"], raw["optional_data"]
        # Part 4: the optional-data check digit may be a filler when the field is empty.
        optional_ok = cd == check_digit(data) or (cd == "<" and data.strip("<") == "")
    if layout.composite:
        composite_ok = raw["composite_cd"] == check_digit(composite_input(layout, lines))
    results = (
        ("document_number", doc_ok),
        ("birth_date", raw["birth_date_cd"] == check_digit(raw["birth_date"])),
        ("expiry_date", _expiry_check_ok(raw["expiry_date"], raw["expiry_date_cd"])),
        ("optional_data", optional_ok),
        ("composite", composite_ok),
    )
    if not (doc_ok and results[1][1] and results[2][1] and optional_ok is not False
            and composite_ok is not False):
        for name, ok in results:
            if ok is False:
                found.error(IssueCode.CHECK_DIGIT, name, f"{name} check digit does not match")
    return results


def _expiry_check_ok(expiry: str, cd: str) -> bool:
    """ICAO 9303-3 4.9: an all-filler field may carry '<' as its check digit; the digit of six
    fillers is also '0' (some issuers print that). The composite uses the printed character, and
    '<' and '0' weigh the same (0), so it is unaffected."""
    return cd == check_digit(expiry) or (cd == "<" and expiry == "<<<<<<")


def _dates(raw: dict[str, str], today: date, future_years: int,
           found: _Findings) -> tuple[date | None, date | None]:
    born, status = infer_birth_date(raw["birth_date"], today)
    if status is DateStatus.INVALID:
        found.error(IssueCode.INVALID_DATE, "birth_date", "birth date is not a date")
    elif status is DateStatus.INCOMPLETE:
        found.warn(IssueCode.BIRTH_DATE_INCOMPLETE, "birth_date", "birth date has unknown parts")
    expires = _expiry(raw["expiry_date"], today, future_years, found)
    if born and expires and born > expires:
        found.error(IssueCode.DATES_INCONSISTENT, "expiry_date", "expiry date before birth date")
    return born, expires


def _expiry(raw: str, today: date, future_years: int, found: _Findings) -> date | None:
    """Decisions (README, MRZ decisions): six fillers is a document without expiry (accepted with
    a warning; the policy refers, as a gate cannot establish its validity); an expiry further
    ahead than `future_years` is accepted with a warning (it used to be read a century back)."""
    expires, status = infer_expiry_date(raw, today)
    if status is DateStatus.INVALID:
        found.error(IssueCode.INVALID_DATE, "expiry_date", "expiry date is not a date")
    elif status is DateStatus.NOT_STATED:
        found.warn(IssueCode.EXPIRY_NOT_STATED, "expiry_date", "no expiry date stated ('<<<<<<')")
    elif expires is not None and expires < today:        # OK status: a date
        found.warn(IssueCode.EXPIRED, "expiry_date", "document expired")
    elif expires is not None and expires > years_after(today, future_years):
        found.warn(IssueCode.EXPIRY_FAR_FUTURE, "expiry_date",
                   f"expiry more than {future_years} years ahead: unusually long validity")
    return expires


def _check_codes(raw: dict[str, str], layout: Layout, found: _Findings) -> None:
    for field in ("issuing_state", "nationality"):
        if raw[field].rstrip("<") not in COUNTRY_CODES:
            found.error(IssueCode.UNKNOWN_COUNTRY, field, f"{field} is not an ISO 3166-1 or ICAO code")
    verdict = check_document_code(layout.format, raw["document_code"])
    if verdict is CodeVerdict.INVALID:
        found.error(IssueCode.BAD_DOCUMENT_CODE, "document_code",
                    f"document code not allowed on a {layout.format.value} document")
    elif verdict is CodeVerdict.UNUSUAL:
        found.warn(IssueCode.UNUSUAL_DOCUMENT_CODE, "document_code", "unlisted passport type letter")
    elif verdict is CodeVerdict.PASSPORT_IN_TD2:
        found.warn(IssueCode.PASSPORT_IN_TD2_LAYOUT, "document_code",
                   "passport code on a TD2-size MRZ (e.g. a German temporary passport)")


def _check_name_and_sex(raw: dict[str, str], found: _Findings) -> None:
    name = raw["name"]
    # Checked on the printed field; splitting into identifiers waits until someone asks.
    # Decision: '<<GIVEN<NAMES' (no primary identifier, as some states print a single name) is
    # accepted with a warning; a name field with no name at all is an error.
    if name.strip("<") == "":
        found.error(IssueCode.MISSING_FIELD, "name", "name field is empty")
    elif name.startswith("<<"):
        found.warn(IssueCode.NO_PRIMARY_IDENTIFIER, "name", "no primary identifier: given names only")
    elif name[0] == "<":
        found.error(IssueCode.MISSING_FIELD, "name", "primary identifier is empty")
    if name[-1] != "<":
        found.warn(IssueCode.NAME_TRUNCATED, "name", "name field is full: the name may be truncated")
    sex = raw["sex"]
    if sex == "X":
        found.warn(IssueCode.SEX_X, "sex", "sex 'X' (unspecified)")
    elif sex not in "MF<":
        found.error(IssueCode.BAD_SEX, "sex", "sex must be M, F, X or '<'")

