"""One authority's statistics on a one-stop post (issue 17).

Each authority's hourly statistics count its own crossings (its direction, its outcome and
reasons). Sex, age band and nationality come from the document its own control read when
`[onestop] statistics = "own_control"` (the default: only counts leave the device, as each country
counts the crossings its own control made), even where the agreement withholds them from its
records; with "shared_fields" they come from its record only, and a withheld field counts as
unknown. The record stored and sent is the same either way.

Small cells: under own_control a withheld field reaches the authority only as a count. A cell of
one or two crossings would still name, say, the rare nationality of a traveller whose record the
authority holds (the same hour, outcome and reason), i.e. hand over a field the agreement
withholds. So in every cell under `[onestop] statistics_min_cell` crossings the withheld fields are
suppressed (null), and such cells are merged; the report's `suppressed` member says so (stats 1.1).
Fields the agreement shares are in the authority's records anyway and are never suppressed, which
is why the single-authority lane (whose BMIS receives every field) suppresses nothing.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from .bmis_side import LaneOutbox

# the statistics dimension each withholdable document field feeds
DIMENSION_OF_FIELD = {"sex": "sex", "nationality": "nationality", "date_of_birth": "age_band"}


class AuthorityLaneOutbox(LaneOutbox):
    """An authority side's outbox: stores its AuthorityRecord, counts its statistics view."""

    def counted(self, record: Any, data: dict) -> dict:
        return record.statistics_dict()


def withheld_dimensions(shared_fields: frozenset[str], own_control: bool) -> tuple[str, ...]:
    """The dimensions a report could reveal although the records withhold them (own_control only:
    with shared_fields a withheld field is counted as unknown, it reveals nothing)."""
    if not own_control:
        return ()
    return tuple(sorted(dim for field, dim in DIMENSION_OF_FIELD.items() if field not in shared_fields))


def suppress_small_cells(report: dict, dimensions: tuple[str, ...], min_cell: int) -> dict:
    """The report with `dimensions` nulled in every cell under `min_cell` crossings (then merged)."""
    counts = report.get("counts", [])
    small = [cell for cell in counts if cell["count"] < min_cell]
    merged: Counter[tuple] = Counter()
    for cell in small:
        merged[tuple((k, None if k in dimensions else v) for k, v in cell.items() if k != "count")] += cell["count"]
    kept = [cell for cell in counts if cell["count"] >= min_cell]
    kept += [dict(key, count=n) for key, n in sorted(merged.items(), key=lambda item: str(item[0]))]
    summary = {"min_cell": min_cell, "fields": list(dimensions), "cells": len(small),
               "crossings": sum(cell["count"] for cell in small)}
    return {**report, "counts": kept, "suppressed": summary}


class SmallCellStats:
    """The authority side's statistics store as its StatsPublisher sees it: the reports that leave
    the device have their small cells suppressed; what is stored on the device is unchanged."""

    def __init__(self, stats, dimensions: tuple[str, ...], min_cell: int):
        self._stats, self._dimensions, self._min_cell = stats, dimensions, min_cell

    def tick(self, now) -> None:
        self._stats.tick(now)

    def due_reports(self, now) -> list[dict]:
        return [suppress_small_cells(report, self._dimensions, self._min_cell)
                for report in self._stats.due_reports(now)]

    def mark_reported(self, period_start: str) -> None:
        self._stats.mark_reported(period_start)
