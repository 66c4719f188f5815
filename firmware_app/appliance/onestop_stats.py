"""One authority's statistics on a one-stop post (issue 17).

Each authority's hourly statistics count its own crossings (its direction, its outcome and
reasons). Sex, age band and nationality come from the document its own control read when
`[onestop] statistics = "own_control"` (the default: only counts leave the device, as each country
counts the crossings its own control made), even where the agreement withholds them from its
records; with "shared_fields" they come from its record only, and a withheld field counts as
unknown. The record stored and sent is the same either way.
"""
from __future__ import annotations

from typing import Any

from .bmis_side import LaneOutbox


class AuthorityLaneOutbox(LaneOutbox):
    """An authority side's outbox: stores its AuthorityRecord, counts its statistics view."""

    def counted(self, record: Any, data: dict) -> dict:
        return record.statistics_dict()
