"""Alert-list entries as the BMIS sends them, checked and turned into typed records.

Entry forms in `cmd/alerts-replace` and `cmd/alerts-delta` (JSON objects):
  document: {"id": "E1", "issuing_state": "UTO", "number": "L898902C3", "category": "stolen"}
  person:   {"id": "P1", "primary": "MÜLLER", "secondary": "ANNA", "birth_date": "1970-03-XX",
             "category": "wanted"}
A listed birth date is "YYYY-MM-DD"; month and day may be "XX" when the list owner does not know
them. Names may be in the national script or in MRZ letters: matching is transliteration-aware.

AlertIndex: immutable in-memory indexes of alert lists: what the lane queries between atomic swaps.

An `AlertIndex` is built once from one version of every list and never changed; the store
replaces its reference to the whole index in one assignment, so a reader that took the index
sees one version of every list, never a mix.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from firmware_app.mrz import name_variants
from firmware_app.mrz.names import spellings_overlap
from firmware_app.policy.alerts import AlertHit, AlertListKind, document_key, require_query_text
from firmware_app.policy.errors import AlertQueryInvalid

from ..errors import AlertListInvalid

MAX_ID_CHARS = 64
MAX_NAME_CHARS = 100
MAX_CATEGORY_CHARS = 32
LIST_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_LISTED_DATE = re.compile(r"^(\d{4})-(\d{2}|XX)-(\d{2}|XX)$")
_UNKNOWN = "X"
# Spellings one issuer writes as two letters and another as one (Ä: AE or A, Ñ: NXX or N).
# Folding both sides makes a list written MUELLER hit a passport printed MULLER: doubt -> hit.
_FOLDS = (("NXX", "N"), ("AE", "A"), ("OE", "O"), ("UE", "U"), ("AA", "A"))


class ListKind(str, enum.Enum):
    DOCUMENT = "document"
    PERSON = "person"


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True, slots=True)
class DocumentRecord:
    entry_id: str
    issuing_state: str      # normalised as by policy.alerts.document_key
    number: str = field(repr=False)
    category: str


@dataclass(frozen=True, slots=True)
class NameForms:
    """Every ICAO spelling of a name, and the same spellings folded."""
    strict: frozenset[str] = field(repr=False)
    folded: frozenset[str] = field(repr=False)
    initials: frozenset[str] = field(repr=False)    # first letters: two spellings can only match if one is shared


@dataclass(frozen=True, slots=True)
class PersonRecord:
    entry_id: str
    primary: str = field(repr=False)
    secondary: str = field(repr=False)
    birth_date: str = field(repr=False)         # as listed: YYYY-MM-DD, MM/DD may be XX
    category: str
    birth_pattern: str = field(repr=False)      # YYMMDD with X for unknown digits, comparable with an MRZ date
    primary_forms: NameForms = field(repr=False)
    secondary_forms: NameForms = field(repr=False)


def fold(spelling: str) -> str:
    for long, short in _FOLDS:
        spelling = spelling.replace(long, short)
    return spelling


def name_forms(name: str) -> NameForms:
    strict = name_variants(name)
    # Folding keeps the first letter (AE -> A, NXX -> N), so the initials of `strict` serve both.
    return NameForms(strict, frozenset(fold(v) for v in strict), frozenset(v[0] for v in strict if v))


def _text(entry: dict, key: str, limit: int, *, required: bool = True) -> str:
    value = entry.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise AlertListInvalid(f"entry field {key!r} must be a non-empty string")
    if len(value) > limit:
        raise AlertListInvalid(f"entry field {key!r} longer than {limit} characters")
    return value.strip()


def birth_pattern(listed: str) -> str:
    """'1970-03-XX' -> '7003XX'. Raises AlertListInvalid for any other form or an impossible date."""
    found = _LISTED_DATE.match(listed)
    if not found:
        raise AlertListInvalid("birth_date must be YYYY-MM-DD (MM and DD may be XX)")
    year, month, day = found.groups()
    if (month != "XX" and not 1 <= int(month) <= 12) or (day != "XX" and not 1 <= int(day) <= 31):
        raise AlertListInvalid("birth_date is not a date (month 01-12, day 01-31)")
    return year[2:] + month + day


def parse_document(entry: object) -> DocumentRecord:
    if not isinstance(entry, dict):
        raise AlertListInvalid("an entry must be an object")
    state, number = document_key(_text(entry, "issuing_state", 3), _text(entry, "number", 40))
    if not state or not number:
        raise AlertListInvalid("issuing_state and number must not be blank")
    return DocumentRecord(_text(entry, "id", MAX_ID_CHARS), state, number,
                          _text(entry, "category", MAX_CATEGORY_CHARS, required=False))


def parse_person(entry: object) -> PersonRecord:
    if not isinstance(entry, dict):
        raise AlertListInvalid("an entry must be an object")
    primary = _text(entry, "primary", MAX_NAME_CHARS)
    secondary = _text(entry, "secondary", MAX_NAME_CHARS, required=False)
    listed = _text(entry, "birth_date", 10)
    return make_person(_text(entry, "id", MAX_ID_CHARS), primary, secondary, listed,
                       _text(entry, "category", MAX_CATEGORY_CHARS, required=False))


def make_person(entry_id: str, primary: str, secondary: str, listed_birth: str,
                category: str) -> PersonRecord:
    forms = name_forms(primary)
    if not any(forms.strict):
        raise AlertListInvalid("primary name has no letters")
    return PersonRecord(entry_id, primary, secondary, listed_birth, category,
                        birth_pattern(listed_birth), forms, name_forms(secondary))


def parse_entry(kind: ListKind, entry: object) -> DocumentRecord | PersonRecord:
    return parse_document(entry) if kind is ListKind.DOCUMENT else parse_person(entry)


def parse_list_id(value: object) -> str:
    if not isinstance(value, str) or not LIST_ID_PATTERN.match(value):
        raise AlertListInvalid("list_id must match " + LIST_ID_PATTERN.pattern)
    return value


def parse_kind(value: object) -> ListKind:
    try:
        return ListKind(value)
    except ValueError:
        raise AlertListInvalid("kind must be 'document' or 'person'") from None


def parse_version(value: object, what: str = "version") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**53:
        raise AlertListInvalid(f"{what} must be a positive integer")
    return value


def dates_compatible(pattern: str, mrz_birth: str) -> bool:
    """Listed YYMMDD pattern vs MRZ YYMMDD; an unknown digit on either side matches any digit."""
    return all(a in (b, _UNKNOWN) or b == _UNKNOWN for a, b in zip(pattern, mrz_birth))


def forms_match(listed: NameForms, given: NameForms) -> bool:
    if not listed.initials & given.initials:
        return False
    return spellings_overlap(listed.strict, given.strict, allow_truncation=True) \
        or spellings_overlap(listed.folded, given.folded, allow_truncation=True)


# -- the immutable index the lane queries ----------------------------------------------------------
_MRZ_DATE_CHARS = frozenset("0123456789<X")


@dataclass(frozen=True, slots=True)
class DocumentListIndex:
    list_id: str
    version: int
    by_key: Mapping[tuple[str, str], tuple[DocumentRecord, ...]]
    size: int

    kind = ListKind.DOCUMENT

    @classmethod
    def build(cls, list_id: str, version: int, records: Iterable[DocumentRecord]) -> DocumentListIndex:
        by_key: dict[tuple[str, str], tuple[DocumentRecord, ...]] = {}
        size = 0
        for record in records:
            key = (record.issuing_state, record.number)
            by_key[key] = by_key.get(key, ()) + (record,)
            size += 1
        return cls(list_id, version, MappingProxyType(by_key), size)

    def hits(self, key: tuple[str, str]) -> tuple[AlertHit, ...]:
        return tuple(AlertHit(AlertListKind.DOCUMENT, self.list_id, str(self.version),
                              r.entry_id, r.category) for r in self.by_key.get(key, ()))


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True, slots=True)
class PersonQuery:
    primary: NameForms = field(repr=False)
    secondary: NameForms = field(repr=False)
    birth: str = field(repr=False)              # YYMMDD, unknown digits as X


@dataclass(frozen=True, slots=True)
class PersonListIndex:
    list_id: str
    version: int
    by_birth: Mapping[str, Mapping[str, tuple[PersonRecord, ...]]]   # YY -> MMDD, fully known
    partial: tuple[PersonRecord, ...]                  # listed with an unknown month or day
    size: int

    kind = ListKind.PERSON

    @classmethod
    def build(cls, list_id: str, version: int, records: Iterable[PersonRecord]) -> PersonListIndex:
        by_birth: dict[str, dict[str, tuple[PersonRecord, ...]]] = {}
        partial: list[PersonRecord] = []
        for record in records:
            if "X" in record.birth_pattern:
                partial.append(record)
                continue
            days = by_birth.setdefault(record.birth_pattern[:2], {})
            days[record.birth_pattern[2:]] = days.get(record.birth_pattern[2:], ()) + (record,)
        size = len(partial) + sum(len(v) for days in by_birth.values() for v in days.values())
        frozen = {year: MappingProxyType(days) for year, days in by_birth.items()}
        return cls(list_id, version, MappingProxyType(frozen), tuple(partial), size)

    def _candidates(self, birth: str) -> Iterable[PersonRecord]:
        # Unknown digits widen the search only where they are: a year-only date scans one year.
        year, month_day = birth[:2], birth[2:]
        years = [year] if "X" not in year else [y for y in self.by_birth if dates_compatible(y, year)]
        for days in (self.by_birth.get(y, {}) for y in years):
            if "X" not in month_day:
                yield from days.get(month_day, ())
                continue
            for listed, records in days.items():
                if dates_compatible(listed, month_day):
                    yield from records
        yield from (r for r in self.partial if dates_compatible(r.birth_pattern, birth))

    def hits(self, query: PersonQuery) -> tuple[AlertHit, ...]:
        return tuple(AlertHit(AlertListKind.PERSON, self.list_id, str(self.version),
                              r.entry_id, r.category)
                     for r in self._candidates(query.birth) if _names_compatible(r, query))


def _names_compatible(record: PersonRecord, query: PersonQuery) -> bool:
    """Both parts transliteration-aware; an empty listed secondary name matches any given names."""
    if not forms_match(record.primary_forms, query.primary):
        return False
    return not record.secondary or forms_match(record.secondary_forms, query.secondary)


ListIndex = DocumentListIndex | PersonListIndex


def person_query(primary: str, secondary: str, birth_date: str) -> PersonQuery:
    birth = require_query_text(birth_date, "birth_date").upper()
    if len(birth) != 6 or not set(birth) <= _MRZ_DATE_CHARS:
        raise AlertQueryInvalid("birth_date must be YYMMDD, unknown digits as '<' or 'X'")
    return PersonQuery(name_forms(require_query_text(primary, "primary")),
                       name_forms(require_query_text(secondary, "secondary")), birth.replace("<", "X"))


@dataclass(frozen=True, slots=True)
class AlertIndex:
    """One consistent view of every list. Implements policy.alerts.AlertListChecker."""
    lists: Mapping[str, ListIndex] = field(default_factory=lambda: MappingProxyType({}))
    updated_at: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))

    def with_list(self, index: ListIndex, updated_at: datetime) -> AlertIndex:
        return AlertIndex(MappingProxyType({**self.lists, index.list_id: index}),
                          MappingProxyType({**self.updated_at, index.list_id: updated_at}))

    def versions(self) -> dict[str, int]:
        return {list_id: index.version for list_id, index in self.lists.items()}

    def check_document(self, issuing_state: str, number: str) -> tuple[AlertHit, ...]:
        key = document_key(issuing_state, number)
        return tuple(hit for index in self.lists.values() if isinstance(index, DocumentListIndex)
                     for hit in index.hits(key))

    def check_person(self, primary: str, secondary: str, birth_date: str) -> tuple[AlertHit, ...]:
        query = person_query(primary, secondary, birth_date)
        return tuple(hit for index in self.lists.values() if isinstance(index, PersonListIndex)
                     for hit in index.hits(query))
