"""Typed results of an MRZ parse. Immutable; `to_json()` gives the CLI/API contract fields."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, NamedTuple

from .formats import CHECK_NAMES, MrzFormat
from .names import split_name_field


class IssueCode(str, Enum):
    # errors: the MRZ is not valid
    CHECK_DIGIT = "check_digit_mismatch"
    BAD_CHARACTER = "bad_character"
    INVALID_DATE = "invalid_date"
    UNKNOWN_COUNTRY = "unknown_country"
    BAD_DOCUMENT_CODE = "bad_document_code"
    BAD_SEX = "bad_sex"
    MISSING_FIELD = "missing_field"
    LONG_NUMBER_MALFORMED = "long_number_malformed"
    DATES_INCONSISTENT = "dates_inconsistent"
    REPAIR_UNCONFIRMED = "ocr_repair_unconfirmed"   # on a BAC key candidate until the chip confirms it
    # warnings: valid, but a gate or officer should know
    EXPIRED = "expired"
    SEX_X = "sex_unspecified_x"
    NAME_TRUNCATED = "name_possibly_truncated"
    BIRTH_DATE_INCOMPLETE = "birth_date_incomplete"
    LONG_NUMBER_DEVIATION = "long_number_issuer_deviation"
    UNUSUAL_DOCUMENT_CODE = "unusual_document_code"
    NO_PRIMARY_IDENTIFIER = "no_primary_identifier"       # name field starts '<<': given names only
    PASSPORT_IN_TD2_LAYOUT = "passport_in_td2_layout"     # e.g. the German temporary passport
    EXPIRY_NOT_STATED = "expiry_not_stated"               # '<<<<<<': no expiry printed
    EXPIRY_FAR_FUTURE = "expiry_far_future"               # more than expiry_future_years ahead
    OCR_REPAIRED = "ocr_repaired"
    OCR_REPAIRED_UNVERIFIED = "ocr_repaired_unverified"
    OCR_REPAIR_CANDIDATES = "ocr_repair_candidates"  # invalid as printed; readings for the chip to try
    OCR_REPAIRED_BY_CHIP = "ocr_repaired_confirmed_by_chip"
    REPAIR_AMBIGUOUS = "repair_ambiguous"
    REPAIR_LIMIT = "repair_search_limit"


@dataclass(frozen=True, slots=True)
class Issue:
    """A finding. Messages name fields and positions only, never personal data."""
    code: IssueCode
    field: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "field": self.field, "message": self.message}


class Confirmation(str, Enum):
    """What vouches for a substitution."""
    CHECK_DIGIT = "check_digit"  # the printed character was impossible there; its check digit agrees
    CHIP = "chip"                # BAC opened the chip with this reading and its DG1 is this MRZ


@dataclass(frozen=True, slots=True)
class Repair:
    """One OCR substitution: 1-based line and column as printed.

    `confirmed_by` None: nothing vouches for it (a swap between two characters both allowed in
    the field, a recomputed check digit, a fixed country code no check digit covers). Such a
    repair only ever appears on a BAC key candidate, never on a valid result.
    """
    field: str
    line: int
    column: int
    found: str
    replaced_by: str
    confirmed_by: Confirmation | None

    @property
    def verified(self) -> bool:
        return self.confirmed_by is not None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "line": self.line, "column": self.column,
                "from": self.found, "to": self.replaced_by, "verified": self.verified,
                "confirmed_by": self.confirmed_by.value if self.confirmed_by else None}


class MrzResult(NamedTuple):
    """One parsed MRZ. Immutable; a NamedTuple because it is built on every read (3x cheaper
    than a frozen dataclass) — use the attributes, not positions."""
    format: MrzFormat
    lines: tuple[str, ...]          # as validated (after any repair)
    document_code: str
    issuing_state: str
    document_number: str            # full number; long TD1/TD2 numbers joined
    nationality: str
    birth_date: str                 # YYMMDD as printed
    birth_date_iso: date | None
    sex: str
    expiry_date: str
    expiry_date_iso: date | None
    optional_data: str
    optional_data_2: str | None     # TD1 only
    name_field: str                 # as printed; split into identifiers on access (lazy)
    checks: tuple[tuple[str, bool | None], ...]
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    repairs: tuple[Repair, ...]
    mrz_information: str            # BAC key seed (ICAO 9303 Part 11, 4.3.2)
    # Other readings of an invalid MRZ that unconfirmed OCR repairs give, each itself invalid
    # (REPAIR_UNCONFIRMED) until `confirmed_by_chip` vouches for it: the lane tries their keys.
    candidates: tuple[MrzResult, ...] = ()

    @property
    def primary_identifier(self) -> str:
        return split_name_field(self.name_field).primary

    @property
    def secondary_identifier(self) -> str:
        """Given names, components joined by one space."""
        return split_name_field(self.name_field).secondary

    @property
    def valid(self) -> bool:
        return not self.errors

    def check(self, name: str) -> bool | None:
        return dict(self.checks)[name]

    def has_issue(self, code: IssueCode) -> bool:
        return any(issue.code is code for issue in self.errors + self.warnings)

    def replace(self, **changes: Any) -> MrzResult:
        return self._replace(**changes)

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"MrzResult(format={self.format.value}, valid={self.valid}, errors={len(self.errors)})"

    def to_json(self) -> dict[str, Any]:
        checks = dict(self.checks)
        return {
            "format": self.format.value,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "birth_date": self.birth_date,
            "birth_date_iso": _iso(self.birth_date_iso),
            "sex": self.sex,
            "expiry_date": self.expiry_date,
            "expiry_date_iso": _iso(self.expiry_date_iso),
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
            "primary_identifier": self.primary_identifier,
            "secondary_identifier": self.secondary_identifier,
            "checks": {name: checks.get(name) for name in CHECK_NAMES},
            "valid": self.valid,
            "errors": [issue.to_json() for issue in self.errors],
            "warnings": [issue.to_json() for issue in self.warnings],
            "repairs": [repair.to_json() for repair in self.repairs],
            "mrz_information": self.mrz_information,
            "candidates": [_candidate_json(c) for c in self.candidates],
        }


def confirmed_by_chip(candidate: MrzResult) -> MrzResult:
    """`candidate` once BAC opened the chip with its key and the chip's DG1 equals its lines."""
    repairs = tuple(r if r.verified else Repair(r.field, r.line, r.column, r.found, r.replaced_by,
                                                Confirmation.CHIP) for r in candidate.repairs)
    errors = tuple(i for i in candidate.errors if i.code is not IssueCode.REPAIR_UNCONFIRMED)
    note = Issue(IssueCode.OCR_REPAIRED_BY_CHIP, None, "OCR repair confirmed by the chip (BAC and DG1)")
    return candidate.replace(repairs=repairs, errors=errors, warnings=candidate.warnings + (note,))


def _candidate_json(candidate: MrzResult) -> dict[str, Any]:
    return {"lines": list(candidate.lines), "mrz_information": candidate.mrz_information,
            "repairs": [r.to_json() for r in candidate.repairs]}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
