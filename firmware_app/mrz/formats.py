"""Field layouts of the five ICAO 9303 MRZ formats, as data (Parts 4-7).

Positions are 0-based, end-exclusive slices of one line. Each field has a character class that
the parser validates and that bounds the OCR repair search.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .charset import DIGITS, FILLER, LETTERS


class MrzFormat(str, Enum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRVA = "MRVA"
    MRVB = "MRVB"


class CharClass(Enum):
    DIGIT = frozenset(DIGITS)
    DIGIT_OR_FILLER = frozenset(DIGITS | {FILLER})
    ALPHA = frozenset(LETTERS | {FILLER})
    ALNUM = frozenset(DIGITS | LETTERS | {FILLER})
    SEX = frozenset("MFX<")


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    start: int
    end: int

    def take(self, lines: tuple[str, ...]) -> str:
        return lines[self.line][self.start:self.end]


# Character class per field name; the name field is letters and fillers only and never repaired.
FIELD_CLASSES: dict[str, CharClass] = {
    "document_code": CharClass.ALPHA,
    "issuing_state": CharClass.ALPHA,
    "name": CharClass.ALPHA,
    "document_number": CharClass.ALNUM,
    "document_number_cd": CharClass.DIGIT_OR_FILLER,
    "nationality": CharClass.ALPHA,
    "birth_date": CharClass.DIGIT_OR_FILLER,
    "birth_date_cd": CharClass.DIGIT,
    "sex": CharClass.SEX,
    "expiry_date": CharClass.DIGIT_OR_FILLER,   # all fillers: no expiry stated (dates.py decides)
    "expiry_date_cd": CharClass.DIGIT_OR_FILLER,   # '<' after an all-filler expiry (validate.py)
    "optional_data": CharClass.ALNUM,
    "optional_data_cd": CharClass.DIGIT_OR_FILLER,
    "optional_data_2": CharClass.ALNUM,
    "composite_cd": CharClass.DIGIT,
}

# Check name -> (data field, check-digit field). The composite has its own spans per layout.
FIELD_CHECKS: dict[str, tuple[str, str]] = {
    "document_number": ("document_number", "document_number_cd"),
    "birth_date": ("birth_date", "birth_date_cd"),
    "expiry_date": ("expiry_date", "expiry_date_cd"),
    "optional_data": ("optional_data", "optional_data_cd"),
}
CHECK_NAMES = ("document_number", "birth_date", "expiry_date", "optional_data", "composite")


@dataclass(frozen=True, slots=True)
class Layout:
    format: MrzFormat
    line_count: int
    line_length: int
    fields: dict[str, Span]
    composite: tuple[Span, ...] = ()
    # Field that carries the rest of a document number longer than 9 characters (TD1, TD2).
    long_number_field: str | None = None

    @property
    def total_length(self) -> int:
        return self.line_count * self.line_length

    def has_check(self, name: str) -> bool:
        if name == "composite":
            return bool(self.composite)
        return FIELD_CHECKS[name][1] in self.fields


def _two_line_top(width: int) -> dict[str, Span]:
    return {"document_code": Span(0, 0, 2), "issuing_state": Span(0, 2, 5), "name": Span(0, 5, width)}


def _two_line_bottom(optional_end: int) -> dict[str, Span]:
    return {
        "document_number": Span(1, 0, 9), "document_number_cd": Span(1, 9, 10),
        "nationality": Span(1, 10, 13), "birth_date": Span(1, 13, 19), "birth_date_cd": Span(1, 19, 20),
        "sex": Span(1, 20, 21), "expiry_date": Span(1, 21, 27), "expiry_date_cd": Span(1, 27, 28),
        "optional_data": Span(1, 28, optional_end),
    }


TD1 = Layout(
    MrzFormat.TD1, 3, 30,
    {
        "document_code": Span(0, 0, 2), "issuing_state": Span(0, 2, 5),
        "document_number": Span(0, 5, 14), "document_number_cd": Span(0, 14, 15),
        "optional_data": Span(0, 15, 30),
        "birth_date": Span(1, 0, 6), "birth_date_cd": Span(1, 6, 7), "sex": Span(1, 7, 8),
        "expiry_date": Span(1, 8, 14), "expiry_date_cd": Span(1, 14, 15),
        "nationality": Span(1, 15, 18), "optional_data_2": Span(1, 18, 29),
        "composite_cd": Span(1, 29, 30), "name": Span(2, 0, 30),
    },
    composite=(Span(0, 5, 30), Span(1, 0, 7), Span(1, 8, 15), Span(1, 18, 29)),
    long_number_field="optional_data",
)

TD2 = Layout(
    MrzFormat.TD2, 2, 36,
    {**_two_line_top(36), **_two_line_bottom(35), "composite_cd": Span(1, 35, 36)},
    composite=(Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 35)),
    long_number_field="optional_data",
)

TD3 = Layout(
    MrzFormat.TD3, 2, 44,
    {**_two_line_top(44), **_two_line_bottom(42),
     "optional_data_cd": Span(1, 42, 43), "composite_cd": Span(1, 43, 44)},
    composite=(Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 43)),
)

MRVA = Layout(MrzFormat.MRVA, 2, 44, {**_two_line_top(44), **_two_line_bottom(44)})
MRVB = Layout(MrzFormat.MRVB, 2, 36, {**_two_line_top(36), **_two_line_bottom(36)})

LAYOUTS: dict[MrzFormat, Layout] = {lay.format: lay for lay in (TD1, TD2, TD3, MRVA, MRVB)}


def layout_for(lines: tuple[str, ...]) -> Layout | None:
    """The layout matching the line count and length; visas are told apart by their leading V."""
    if not lines or len({len(line) for line in lines}) != 1:
        return None
    shape = (len(lines), len(lines[0]))
    is_visa = lines[0][:1] == "V"
    if shape == (3, 30):
        return TD1
    if shape == (2, 36):
        return MRVB if is_visa else TD2
    if shape == (2, 44):
        return MRVA if is_visa else TD3
    return None


def composite_input(layout: Layout, lines: tuple[str, ...]) -> str:
    """The characters the composite check digit covers (empty when the format has none)."""
    return "".join(span.take(lines) for span in layout.composite)
