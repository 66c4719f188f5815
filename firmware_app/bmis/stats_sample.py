"""From one crossing record (lane/record.py to_dict()) to the few values statistics keep.

Only the breakdown the Sustainable Development Goals ask border data for is kept: direction,
outcome and reason, sex, age band and nationality, plus per-step timings. No name, number or
full birth date is kept. Anything unusable counts as "unknown" rather than being dropped.
"""
from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from firmware_app.mrz.dates import DateStatus, infer_birth_date

from .command_errors import StatsError

UNKNOWN = "unknown"
MAX_STEPS = 16
_CODE = re.compile(r"^[a-z0-9_.:-]{1,64}$")
_STEP = re.compile(r"^[a-z0-9_]{1,32}$")
_NATIONALITY = re.compile(r"^[A-Z]{1,3}$")
_SEXES = {"M": "M", "F": "F", "X": "X", "<": "X"}


class AgeBand(str, enum.Enum):
    """Nests into both 0-17/18+ (minors) and the UN bands 0-14, 15-24, 25-64, 65+."""
    A0_14 = "0-14"
    A15_17 = "15-17"
    A18_24 = "18-24"
    A25_34 = "25-34"
    A35_44 = "35-44"
    A45_54 = "45-54"
    A55_64 = "55-64"
    A65_PLUS = "65+"
    UNKNOWN = "unknown"


_BAND_FLOORS = ((65, AgeBand.A65_PLUS), (55, AgeBand.A55_64), (45, AgeBand.A45_54),
                (35, AgeBand.A35_44), (25, AgeBand.A25_34), (18, AgeBand.A18_24),
                (15, AgeBand.A15_17), (0, AgeBand.A0_14))


@dataclass(frozen=True)
class StatSample:
    hour: datetime                      # start of the UTC hour the crossing ended in
    direction: str
    outcome: str
    reason: str | None                  # the first (main) reason code, None when none
    reasons: tuple[str, ...]
    sex: str | None                     # None: no document was read
    age_band: str | None
    nationality: str | None
    timings_ms: dict[str, float]


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band_of(age: int) -> AgeBand:
    for floor, band in _BAND_FLOORS:
        if age >= floor:
            return band
    return AgeBand.UNKNOWN


def age_band(raw_birth: object, day: date) -> AgeBand:
    """Band at `day` from an MRZ YYMMDD birth date; an unknown month/day still gives a band when
    every possible birth date in that year falls in the same band."""
    if not isinstance(raw_birth, str) or len(raw_birth) != 6:
        return AgeBand.UNKNOWN
    born, status = infer_birth_date(raw_birth, day)
    if status is DateStatus.OK and born is not None:
        return band_of(age_on(born, day))
    if status is DateStatus.INCOMPLETE and raw_birth[:2].isdigit():
        first, _ = infer_birth_date(raw_birth[:2] + "0101", day)
        if first is None:
            return AgeBand.UNKNOWN
        oldest, youngest = band_of(age_on(first, day)), band_of(age_on(date(first.year, 12, 31), day))
        return oldest if oldest is youngest else AgeBand.UNKNOWN
    return AgeBand.UNKNOWN


def _code(value: object) -> str:
    return value if isinstance(value, str) and _CODE.match(value) else UNKNOWN


def _when(value: object) -> datetime:
    if not isinstance(value, str):
        raise StatsError("ended_at must be an ISO time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise StatsError("ended_at is not an ISO time") from None
    # A naive time is taken as UTC: the lane's clock is UTC.
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    if not 2000 <= moment.year <= 9000:  # far outside any real clock; also keeps hour math safe
        raise StatsError("ended_at is not a plausible time")
    return moment.astimezone(timezone.utc)


def _timings(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    kept = {}
    for step, ms in list(value.items())[:MAX_STEPS]:
        if isinstance(step, str) and _STEP.match(step) and isinstance(ms, (int, float)) \
                and not isinstance(ms, bool) and math.isfinite(ms) and ms >= 0:
            kept[step] = float(ms)
    return kept


def _reasons(decision: object) -> tuple[str, ...]:
    reasons = decision.get("reasons") if isinstance(decision, dict) else None
    return tuple(_code(r) for r in reasons[:16]) if isinstance(reasons, list) else ()


def _document_dims(document: object, day: date) -> tuple[str | None, str | None, str | None]:
    if not isinstance(document, dict):
        return None, None, None
    sex = document.get("sex")
    sex = _SEXES.get(sex, UNKNOWN) if isinstance(sex, str) else UNKNOWN
    nationality = document.get("nationality")
    nationality = nationality.replace("<", "") if isinstance(nationality, str) else ""
    return (sex, age_band(document.get("date_of_birth"), day).value,
            nationality if _NATIONALITY.match(nationality) else UNKNOWN)


def sample_of(record: object) -> StatSample:
    """Raises StatsError only when the record is not a dict or has no usable end time."""
    if not isinstance(record, dict):
        raise StatsError("a crossing record must be a dict")
    ended = _when(record.get("ended_at"))
    direction = record.get("direction")
    reasons = _reasons(record.get("decision"))
    sex, band, nationality = _document_dims(record.get("document"), ended.date())
    return StatSample(ended.replace(minute=0, second=0, microsecond=0),
                      direction if direction in ("entry", "exit") else UNKNOWN,
                      _code(record.get("outcome")), reasons[0] if reasons else None, reasons,
                      sex, band, nationality, _timings(record.get("timings_ms")))
