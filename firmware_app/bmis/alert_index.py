"""Immutable in-memory indexes of alert lists: what the lane queries between atomic swaps.

An `AlertIndex` is built once from one version of every list and never changed; the store
replaces its reference to the whole index in one assignment, so a reader that took the index
sees one version of every list, never a mix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Iterable, Mapping

from firmware_app.policy.alerts import AlertHit, AlertListKind, document_key, require_query_text
from firmware_app.policy.errors import AlertQueryInvalid

from .alert_entries import (DocumentRecord, ListKind, NameForms, PersonRecord, dates_compatible,
                            forms_match, name_forms)

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
        return tuple(hit for index in self.lists.values() if index.kind is ListKind.DOCUMENT
                     for hit in index.hits(key))

    def check_person(self, primary: str, secondary: str, birth_date: str) -> tuple[AlertHit, ...]:
        query = person_query(primary, secondary, birth_date)
        return tuple(hit for index in self.lists.values() if index.kind is ListKind.PERSON
                     for hit in index.hits(query))
