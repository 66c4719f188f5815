"""Alert lists: the contract the policy consults, plus a small in-memory implementation.

Two lists, as at a real post:
  * a document list in the spirit of INTERPOL's SLTD (stolen and lost travel documents), keyed by
    issuing state + document number;
  * a person list keyed by name + birth date, compared transliteration-aware with
    `firmware_app.mrz.names_match` (an MRZ spells MÜLLER as MUELLER or MULLER).

Another module provides the SQLite-backed, versioned store; it implements `AlertListChecker` and
may reuse `document_key`, `birth_dates_match` and `person_matches` so both behave the same.
A checker that cannot answer raises `AlertListUnavailable` (never returns "no hit" on doubt).

Birth dates are passed as printed in the MRZ: "YYMMDD", where '<' or 'X' stands for an unknown
digit (ICAO 9303 Part 3 allows an unknown day/month). Unknown digits match any digit, so doubt
leads to a hit and an officer looks; the century is unknown in an MRZ, so only YYMMDD is compared.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable

from firmware_app.mrz import names_match

from .errors import AlertQueryInvalid

MAX_QUERY_CHARS = 200
_UNKNOWN_DIGITS = frozenset("<X")


class AlertListKind(str, enum.Enum):
    DOCUMENT = "document"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class AlertHit:
    """One match. `entry_id` and `category` go to the officer and the BMIS, never to the kiosk."""
    kind: AlertListKind
    list_id: str            # which list (e.g. "sltd", "national-watch")
    list_version: str       # version of the list the hit came from (for the audit trail)
    entry_id: str           # the entry's id in that list
    category: str = ""      # e.g. "stolen", "lost", "wanted"; free text from the list owner

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "list_id": self.list_id, "list_version": self.list_version,
                "entry_id": self.entry_id, "category": self.category}


@runtime_checkable
class AlertListChecker(Protocol):
    """What the policy asks. Both methods return all hits (empty tuple: no hit).

    Raise `firmware_app.policy.errors.AlertListUnavailable` when the lists cannot be consulted.
    """

    def check_document(self, issuing_state: str, number: str) -> tuple[AlertHit, ...]:
        """`issuing_state`: ICAO 3-letter code; `number`: document number as in the MRZ."""
        ...

    def check_person(self, primary: str, secondary: str, birth_date: str) -> tuple[AlertHit, ...]:
        """Names as split from the MRZ (components joined by a space); birth date "YYMMDD"."""
        ...


def require_query_text(value: object, what: str) -> str:
    """The field itself when it is a str of at most MAX_QUERY_CHARS (hostile input is bounded)."""
    if not isinstance(value, str):
        raise AlertQueryInvalid(f"{what} must be a str")
    if len(value) > MAX_QUERY_CHARS:
        raise AlertQueryInvalid(f"{what} longer than {MAX_QUERY_CHARS} characters")
    return value


def document_key(issuing_state: str, number: str) -> tuple[str, str]:
    """Normalised lookup key: upper case, MRZ filler '<' and spaces removed."""
    state = require_query_text(issuing_state, "issuing_state").upper().replace("<", "").strip()
    digits = require_query_text(number, "number").upper().replace("<", "").replace(" ", "")
    return state, digits


def birth_dates_match(mrz_birth_date: str, listed: date) -> bool:
    """True when the MRZ "YYMMDD" (unknown digits as '<' or 'X') may be the listed date."""
    printed = require_query_text(mrz_birth_date, "birth_date").upper()
    if len(printed) != 6:
        raise AlertQueryInvalid("birth_date must be 6 characters YYMMDD")
    expected = listed.strftime("%y%m%d")
    return all(p in _UNKNOWN_DIGITS or p == e for p, e in zip(printed, expected))


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    entry_id: str
    issuing_state: str
    number: str
    category: str = "stolen"


@dataclass(frozen=True, slots=True)
class PersonEntry:
    entry_id: str
    primary: str
    secondary: str
    birth_date: date
    category: str = "wanted"


def person_matches(entry: PersonEntry, primary: str, secondary: str, birth_date: str) -> bool:
    """Birth date first (cheap), then both name parts transliteration-aware.

    An empty listed secondary name (mononyms) matches any given names.
    """
    if not birth_dates_match(birth_date, entry.birth_date):
        return False
    primary = require_query_text(primary, "primary")
    secondary = require_query_text(secondary, "secondary")
    if not names_match(entry.primary, primary, allow_truncation=True):
        return False
    return not entry.secondary or names_match(entry.secondary, secondary, allow_truncation=True)


class InMemoryAlertLists:
    """A plain in-memory `AlertListChecker` for tests and the simulator."""

    def __init__(self, documents: Iterable[DocumentEntry] = (), persons: Iterable[PersonEntry] = (),
                 *, list_version: str = "mem-1", document_list_id: str = "sltd",
                 person_list_id: str = "persons"):
        self._documents: dict[tuple[str, str], list[DocumentEntry]] = {}
        for entry in documents:
            self._documents.setdefault(document_key(entry.issuing_state, entry.number), []).append(entry)
        self._persons = tuple(persons)
        self._version = list_version
        self._document_list_id = document_list_id
        self._person_list_id = person_list_id

    def check_document(self, issuing_state: str, number: str) -> tuple[AlertHit, ...]:
        entries = self._documents.get(document_key(issuing_state, number), [])
        return tuple(AlertHit(AlertListKind.DOCUMENT, self._document_list_id, self._version,
                              e.entry_id, e.category) for e in entries)

    def check_person(self, primary: str, secondary: str, birth_date: str) -> tuple[AlertHit, ...]:
        return tuple(AlertHit(AlertListKind.PERSON, self._person_list_id, self._version,
                              e.entry_id, e.category)
                     for e in self._persons if person_matches(e, primary, secondary, birth_date))
