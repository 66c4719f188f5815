"""Hourly crossing statistics for the `stats` message (schemas/stats.json), kept in SQLite.

    stats = CrossingStats.open(data_dir / "stats.db")
    stats.add(record.to_dict(), now)          # after each crossing (no personal data is kept)
    stats.tick(now)                           # now and then: the current hour exists even if empty
    for report in stats.due_reports(now):     # every finished hour not yet reported
        link.add(MessageKind.STATS, report)
        stats.mark_reported(report["period_start"])

Samples are stored at once (a power cut loses no count); an hour is reported after it ends, and
hours the gate was running through are reported even with no crossing (zero is a fact too).
Each crossing counts once, under its first reason; `reason_counts` counts every reason. A crossing
whose hour was already reported (a late record, or a wall clock stepped back) is put, once, into
the first hour after the last reported one: the next report carries it.

Samples: from one crossing record (lane/record.py to_dict()) to the few values statistics keep.

Only the breakdown the Sustainable Development Goals ask border data for is kept: direction,
outcome and reason, sex, age band and nationality, plus per-step timings. No name, number or
full birth date is kept. Anything unusable counts as "unknown" rather than being dropped.
"""
from __future__ import annotations

import enum
import json
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlite_utils

from firmware_app.mrz.dates import DateStatus, infer_birth_date
from firmware_app.storage import Migration, Schema, migrate

from .errors import StatsError
from .sqlite_files import Serialized, open_wal_database

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
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    if not 2000 <= moment.year <= 9000:  # far outside any real clock; also keeps hour math safe
        raise StatsError("ended_at is not a plausible time")
    return moment.astimezone(UTC)


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


# -- hourly statistics in SQLite -------------------------------------------------------------------
PERCENTILES = (50, 90, 99)
KEEP_REPORTED = timedelta(days=7)
_DIMENSIONS = ("direction", "outcome", "reason", "sex", "age_band", "nationality")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat_hours (hour TEXT PRIMARY KEY, reported INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS stat_samples (
  id INTEGER PRIMARY KEY, hour TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL,
  reason TEXT, reasons TEXT NOT NULL, sex TEXT, age_band TEXT, nationality TEXT, timings TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stat_samples_hour ON stat_samples (hour);
"""
SCHEMA = Schema("statistics", (Migration.sql(1, "baseline", _SCHEMA),))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def percentile(sorted_values: list[float], pct: int) -> float:
    """Nearest-rank percentile of an ascending list (not empty)."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(timings: Iterable[dict[str, float]]) -> dict[str, dict]:
    per_step: dict[str, list[float]] = {}
    for sample in timings:
        for step, ms in sample.items():
            per_step.setdefault(step, []).append(ms)
    summary = {}
    for step, values in sorted(per_step.items()):
        values.sort()
        summary[step] = {"count": len(values), "max": values[-1],
                         **{f"p{p}": percentile(values, p) for p in PERCENTILES}}
    return summary


def hour_report(hour: datetime, samples: list[StatSample]) -> dict:
    """The `data` member of a stats message for one hour."""
    cells = Counter(tuple(getattr(s, d) for d in _DIMENSIONS) for s in samples)
    counts = [dict(zip(_DIMENSIONS, key), count=n)
              for key, n in sorted(cells.items(), key=lambda item: [str(v) for v in item[0]])]
    reasons = Counter(reason for s in samples for reason in s.reasons)
    return {"period_start": utc_text(hour), "period_end": utc_text(hour + timedelta(hours=1)),
            "total": len(samples), "counts": counts, "reason_counts": dict(sorted(reasons.items())),
            "latency_ms": latency_summary(s.timings_ms for s in samples)}


class CrossingStats:
    def __init__(self, db: sqlite_utils.Database):
        self._db = db
        self._guard = Serialized(db, StatsError, "statistics store")
        try:
            migrate(db, SCHEMA)
        except sqlite3.Error as exc:
            raise StatsError(f"statistics store: {exc}") from None

    @classmethod
    def open(cls, path: str | Path) -> CrossingStats:
        try:
            db = open_wal_database(path)
        except sqlite3.Error as exc:
            raise StatsError(f"cannot open statistics {path}: {exc}") from None
        return cls(db)

    def tick(self, now: datetime) -> None:
        self._guard(lambda: self._db.execute(
            "INSERT OR IGNORE INTO stat_hours (hour) VALUES (?)", [utc_text(hour_of(now))]))

    def add(self, record: object, now: datetime) -> StatSample:
        """Count one crossing record. The hour is the record's end time; `now` marks the gate alive."""
        return self.add_sample(sample_of(record), now)

    def add_sample(self, sample: StatSample, now: datetime) -> StatSample:
        """Count one crossing already reduced to what statistics keep (no personal data)."""
        row = [utc_text(sample.hour), sample.direction, sample.outcome, sample.reason,
               json.dumps(sample.reasons), sample.sex, sample.age_band, sample.nationality,
               json.dumps(sample.timings_ms)]

        def write():
            current = utc_text(hour_of(now))
            row[0] = self._unreported_hour(row[0], current)
            self._db.execute("INSERT OR IGNORE INTO stat_hours (hour) VALUES (?)", [row[0]])
            self._db.execute("INSERT OR IGNORE INTO stat_hours (hour) VALUES (?)", [current])
            self._db.execute(
                "INSERT INTO stat_samples (hour, direction, outcome, reason, reasons, sex, age_band,"
                " nationality, timings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        self._guard(write)
        return sample

    def _unreported_hour(self, hour: str, current: str) -> str:
        """`hour` unless it was already reported: then the next report's hour (count it late, not never)."""
        reported = self._db.execute("SELECT reported FROM stat_hours WHERE hour = ?", [hour]).fetchone()
        if not (reported and reported[0]):
            return hour
        last = self._db.execute("SELECT MAX(hour) FROM stat_hours WHERE reported = 1").fetchone()[0]
        after_last = utc_text(self._parse(last) + timedelta(hours=1))
        return max(current, after_last)     # ISO text sorts as time

    def _samples(self, hour: str) -> list[StatSample]:
        rows = self._db.execute(
            "SELECT direction, outcome, reason, reasons, sex, age_band, nationality, timings "
            "FROM stat_samples WHERE hour = ? ORDER BY id", [hour]).fetchall()
        start = self._parse(hour)
        return [StatSample(start, d, o, r, tuple(json.loads(rs)), s, a, n, json.loads(t))
                for d, o, r, rs, s, a, n, t in rows]

    def report(self, hour: datetime) -> dict:
        hour = hour_of(hour)
        return self._guard(lambda: hour_report(hour, self._samples(utc_text(hour))))

    def due_reports(self, now: datetime) -> list[dict]:
        """Reports of finished hours not yet marked reported, oldest first."""
        current = utc_text(hour_of(now))

        def read():
            hours = [h for (h,) in self._db.execute(
                "SELECT hour FROM stat_hours WHERE reported = 0 AND hour < ? ORDER BY hour", [current])]
            return [hour_report(self._parse(h), self._samples(h)) for h in hours]
        return self._guard(read)

    @staticmethod
    def _parse(hour: object) -> datetime:
        try:
            if not isinstance(hour, str):
                raise TypeError
            return datetime.strptime(hour, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            raise StatsError(f"not an hour start: {hour!r}") from None

    def mark_reported(self, period_start: str) -> None:
        """After the report is safely in the outbox; old reported hours are then dropped."""
        horizon = utc_text(self._parse(period_start) - KEEP_REPORTED)

        def write():
            self._db.execute("UPDATE stat_hours SET reported = 1 WHERE hour = ?", [period_start])
            self._db.execute("DELETE FROM stat_samples WHERE hour IN "
                             "(SELECT hour FROM stat_hours WHERE reported = 1 AND hour < ?)", [horizon])
            self._db.execute("DELETE FROM stat_hours WHERE reported = 1 AND hour < ?", [horizon])
        self._guard(write)

    def close(self) -> None:
        self._db.close()
