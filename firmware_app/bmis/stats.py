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
"""
from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

import sqlite_utils

from .command_errors import StatsError
from .sqlite_files import Serialized, open_wal_database
from .stats_sample import StatSample, sample_of

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


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


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
        self._guard(lambda: db.executescript(_SCHEMA))

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
            return datetime.strptime(hour, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
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
