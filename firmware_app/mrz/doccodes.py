"""Document codes per format (ICAO 9303 Parts 4-7)."""
from __future__ import annotations

from enum import Enum

from .formats import MrzFormat


class CodeVerdict(Enum):
    OK = "ok"
    UNUSUAL = "unusual"    # allowed shape, but not a code this format normally carries
    PASSPORT_IN_TD2 = "passport_in_td2"  # a P code on a TD2-size MRZ: accepted with a warning
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
    """`code` is the two printed characters, e.g. 'P<', 'PD', 'ID', 'V<'.

    Decision: Part 6 lists only A, C, I for TD2, but real passports use the TD2 size too (the
    German temporary passport, 'P<D'): a passport type code there is PASSPORT_IN_TD2, a warning.
    """
    first, second = code[0], code[1]
    if fmt is MrzFormat.TD2 and first == "P" and (second == "<" or second in PASSPORT_TYPES):
        return CodeVerdict.PASSPORT_IN_TD2
    if first not in _FIRST_LETTERS[fmt] or not (second == "<" or "A" <= second <= "Z"):
        return CodeVerdict.INVALID
    if fmt is MrzFormat.TD3:
        # 'P<' stays valid for passports issued before the type letter became mandatory.
        return CodeVerdict.OK if second == "<" or second in PASSPORT_TYPES else CodeVerdict.UNUSUAL
    # Parts 5/6 note k: V never second; 'AC' is reserved for crew member certificates on TD1.
    if fmt in (MrzFormat.TD1, MrzFormat.TD2) and (second == "V" or (code == "AC" and fmt is MrzFormat.TD2)):
        return CodeVerdict.INVALID
    return CodeVerdict.OK
