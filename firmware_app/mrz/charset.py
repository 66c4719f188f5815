"""MRZ character set and the 7-3-1 check digit (ICAO 9303 Part 3, 4.9)."""
from __future__ import annotations

import string

FILLER = "<"
DIGITS = frozenset(string.digits)
LETTERS = frozenset(string.ascii_uppercase)
MRZ_CHARS = frozenset(string.digits + string.ascii_uppercase + FILLER)

# Character values: digits as themselves, A=10 .. Z=35, filler 0.
VALUES: dict[str, int] = {c: int(c) for c in string.digits}
VALUES.update({c: 10 + i for i, c in enumerate(string.ascii_uppercase)})
VALUES[FILLER] = 0

# Precomputed value*weight tables: one dict lookup per character, no multiplication per call.
_W7 = {c: v * 7 for c, v in VALUES.items()}
_W3 = {c: v * 3 for c, v in VALUES.items()}
_W1 = VALUES


def weighted_sum(text: str) -> int:
    """Sum of character values weighted 7, 3, 1 repeating. Raises KeyError outside the charset."""
    return (sum(map(_W7.__getitem__, text[0::3]))
            + sum(map(_W3.__getitem__, text[1::3]))
            + sum(map(_W1.__getitem__, text[2::3])))


def check_digit(text: str) -> str:
    """The check digit of `text` as a character '0'..'9'."""
    return str(weighted_sum(text) % 10)


def is_mrz_text(text: str) -> bool:
    return MRZ_CHARS.issuperset(text)
