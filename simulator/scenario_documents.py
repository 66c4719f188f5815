"""A scenario traveller's document beyond the plain one: MRZ variants that real documents carry
(no expiry stated, a birth date with unknown parts), a document personalised wrongly (its printed
MRZ and chip alike), and a printed data page altered after issue (the chip keeps the issued DG1).
Positions are ICAO 9303-4/-5 (TD3: 2 lines of 44; TD1: 3 lines of 30)."""
from __future__ import annotations

from firmware_app.mrz import check_digit

# (line, column) of the expiry check digit and of the composite check digit
_EXPIRY_CD = {2: (1, 27), 3: (1, 14)}
_COMPOSITE_CD = {2: (1, 43), 3: (1, 29)}
ISSUED_SURNAME, ALTERED_SURNAME = "TRAVELLER<<", "TRAVALLER<<"


def _put(lines: tuple[str, ...], where: tuple[int, int], char: str) -> tuple[str, ...]:
    row, column = where
    changed = list(lines)
    changed[row] = changed[row][:column] + char + changed[row][column + 1:]
    return tuple(changed)


def filler_expiry_check(lines: tuple[str, ...]) -> tuple[str, ...]:
    """No expiry ('<<<<<<'): the check digit printed as '<' (9303-3 4.9). '<' and '0' both weigh 0,
    so the composite check digit stays right."""
    where = _EXPIRY_CD[len(lines)]
    row, column = where
    if lines[row][column - 6:column + 1] != "<<<<<<" + check_digit("<<<<<<"):
        raise ValueError("no expiry expected before the filler check digit")
    return _put(lines, where, "<")


def wrong_composite(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The composite check digit off by one: the issuer's personalisation got it wrong."""
    row, column = _COMPOSITE_CD[len(lines)]
    digit = lines[row][column]
    return _put(lines, (row, column), str((int(digit) + 1) % 10))


def altered_name(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The data page's surname changed after issue; the name has no check digit of its own."""
    row = 0 if len(lines) == 2 else 2
    if ISSUED_SURNAME not in lines[row]:
        raise ValueError("the issued surname is not on the name line")
    changed = list(lines)
    changed[row] = changed[row].replace(ISSUED_SURNAME, ALTERED_SURNAME, 1)
    return tuple(changed)
