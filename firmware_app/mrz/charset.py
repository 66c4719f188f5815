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

# Character value per byte: a check digit is then one C-level translate and three slice sums
# (7*sum(v0) + 3*sum(v1) + sum(v2) equals the position-weighted sum) instead of a Python loop.
_VALUE_TABLE = bytes(VALUES.get(chr(code), 0) for code in range(256))
_DIGIT_CHARS = "0123456789"


def weighted_sum(text: str | bytes) -> int:
    """Sum of character values weighted 7, 3, 1 repeating (callers ensure MRZ characters)."""
    values = (text.encode("ascii") if isinstance(text, str) else bytes(text)).translate(_VALUE_TABLE)
    return 7 * sum(values[0::3]) + 3 * sum(values[1::3]) + sum(values[2::3])


def check_digit(text: str) -> str:
    """The check digit of MRZ text as a character '0'..'9'."""
    values = text.encode("ascii").translate(_VALUE_TABLE)
    return _DIGIT_CHARS[(7 * sum(values[0::3]) + 3 * sum(values[1::3]) + sum(values[2::3])) % 10]


def is_mrz_text(text: str) -> bool:
    return MRZ_CHARS.issuperset(text)
