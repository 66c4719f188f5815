"""Each authority's outbox in `gatectl status` on a one-stop post (issue 17).

The status snapshot's `outbox` is then {"authorities": {role: counts}} with each authority's own
counts, or {"error": "..."} for an outbox that cannot be read (a damaged file, a closed store):
one broken outbox is reported as its own authority's, and the other's counts still answer.
Counts only, never a record: the technician who reads the status of a shared lane sees no
authority's data.
"""
from __future__ import annotations

import logging
from typing import Any

from firmware_app.errors import GateError
from firmware_app.status.snapshot import outbox_summary

log = logging.getLogger("gate.app.onestop")
NOTE_CHARS = 200        # as a health entry's note


def authority_outboxes(sides: dict[Any, Any]) -> dict:
    """`sides`: each authority's BMIS side by role (onestop.py's OnestopSides.sides)."""
    return {"authorities": {role.value: _counts(side, role.value) for role, side in sides.items()}}


def _counts(side, role: str) -> dict:
    try:
        return outbox_summary(side.link.outbox.counts())
    except GateError as exc:     # OutboxError: its database failed; the other outbox still answers
        log.error("%s authority's outbox unreadable: %s", role, type(exc).__name__)
        return {"error": f"{type(exc).__name__}: {exc}"[:NOTE_CHARS]}
