"""Document codes per format (ICAO 9303 Parts 4-7)."""
from __future__ import annotations

from enum import Enum

from .formats import MrzFormat


class CodeVerdict(Enum):
    OK = "ok"
    UNUSUAL = "unusual"    # allowed shape, but not a code this format normally carries
    INVALID = "invalid"


# Passport type letters of Part 4 (9th edition table, applying to passports issued from 2026).
PASSPORT_TYPES: dict[str, str] = {
    "P": "national passport", "E": "emergency passport", "D": "diplomatic passport",
    "O": "official or service passport", "R": "refugee passport",
    "T": "alien or non-citizen passport", "S": "stateless person passport",
    "L": "laissez-passer", "M": "military passport", "U": "single-sheet document",
}

_FIRST_LETTERS: dict[MrzFormat, str] = {
    MrzFormat.TD3: "P", MrzFormat.MRVA: "V", MrzFormat.MRVB: "V",
    MrzFormat.TD1: "ACI", MrzFormat.TD2: "ACI",
}


def check_document_code(fmt: MrzFormat, code: str) -> CodeVerdict:
    """`code` is the two printed characters, e.g. 'P<', 'PD', 'ID', 'V<'."""
    first, second = code[0], code[1]
    if first not in _FIRST_LETTERS[fmt] or not (second == "<" or "A" <= second <= "Z"):
        return CodeVerdict.INVALID
    if fmt is MrzFormat.TD3:
        # 'P<' stays valid for passports issued before the type letter became mandatory.
        return CodeVerdict.OK if second == "<" or second in PASSPORT_TYPES else CodeVerdict.UNUSUAL
    if fmt in (MrzFormat.TD1, MrzFormat.TD2):
        # Parts 5/6 note k: V never second; 'AC' is reserved for crew member certificates on TD1.
        if second == "V" or (code == "AC" and fmt is MrzFormat.TD2):
            return CodeVerdict.INVALID
    return CodeVerdict.OK
