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

# value*weight per byte for weights 7, 3, 1 (at most 35*7 = 245, so each fits in a byte):
# a check digit is then three C-level translate+sum passes instead of a Python loop.
def _weight_table(weight: int) -> bytes:
    table = bytearray(256)
    for char, value in VALUES.items():
        table[ord(char)] = value * weight
    return bytes(table)


_T7, _T3, _T1 = _weight_table(7), _weight_table(3), _weight_table(1)


def weighted_sum(text: str | bytes) -> int:
    """Sum of character values weighted 7, 3, 1 repeating (callers ensure MRZ characters)."""
    data = text.encode("ascii") if isinstance(text, str) else text
    return (sum(data[0::3].translate(_T7)) + sum(data[1::3].translate(_T3))
            + sum(data[2::3].translate(_T1)))


def check_digit(text: str | bytes) -> str:
    """The check digit of `text` as a character '0'..'9'."""
    return _DIGIT_CHARS[weighted_sum(text) % 10]


_DIGIT_CHARS = "0123456789"


def is_mrz_text(text: str) -> bool:
    return MRZ_CHARS.issuperset(text)
