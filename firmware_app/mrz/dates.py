"""YYMMDD dates with century inference against an injected `today` (ICAO 9303 Part 3, 4.3)."""
from __future__ import annotations

from datetime import date
from enum import Enum


class DateStatus(Enum):
    OK = "ok"
    INCOMPLETE = "incomplete"  # some parts unknown ('<<'), allowed for birth dates only
    NOT_STATED = "not_stated"  # an expiry of six fillers: the document states none
    INVALID = "invalid"


# Expiry century window: from this many years before `today` to 99 years later. Expiry leans to
# the future (an expiry 24 years ahead is 2050, not 1950, which put it before the birth date),
# while a document expired up to 50 years ago still reads as expired.
EXPIRY_PAST_YEARS = 50


_TWO_DIGITS = {f"{n:02d}": n for n in range(100)}


def _parts(raw: str) -> tuple[int, int, int] | None:
    """(YY, MM, DD) when all six characters are ASCII digits."""
    if len(raw) != 6:
        return None
    yy, month, day = _TWO_DIGITS.get(raw[0:2]), _TWO_DIGITS.get(raw[2:4]), _TWO_DIGITS.get(raw[4:6])
    if yy is None or month is None or day is None:
        return None
    return yy, month, day


def _birth_incomplete(raw: str) -> bool:
    """Each of YY, MM, DD is two digits or two fillers, and at least one part is unknown."""
    pairs = (raw[0:2], raw[2:4], raw[4:6])
    return "<<" in pairs and all(p == "<<" or p in _TWO_DIGITS for p in pairs)


def infer_birth_date(raw: str, today: date) -> tuple[date | None, DateStatus]:
    """Latest century that does not put the birth date after `today`."""
    parts = _parts(raw)
    if parts is None:
        status = DateStatus.INCOMPLETE if len(raw) == 6 and _birth_incomplete(raw) else DateStatus.INVALID
        return None, status
    yy, month, day = parts
    year = today.year - ((today.year - yy) % 100)
    try:
        born = date(year, month, day)
        if born > today:
            born = date(year - 100, month, day)
    except ValueError:
        return None, DateStatus.INVALID
    return born, DateStatus.OK


def infer_expiry_date(raw: str, today: date) -> tuple[date | None, DateStatus]:
    """Future-leaning: the century that puts the expiry between EXPIRY_PAST_YEARS years before
    `today` and 99 years after that (birth dates lean to the past instead)."""
    parts = _parts(raw)
    if parts is None:
        return None, DateStatus.NOT_STATED if raw == "<<<<<<" else DateStatus.INVALID
    yy, month, day = parts
    earliest_year = today.year - EXPIRY_PAST_YEARS
    year = earliest_year + ((yy - earliest_year) % 100)
    try:
        return date(year, month, day), DateStatus.OK
    except ValueError:
        return None, DateStatus.INVALID


def years_after(day: date, years: int) -> date:
    """`day` moved `years` years on (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
