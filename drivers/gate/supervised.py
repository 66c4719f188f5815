"""Supervised presence inputs: each beam wired as a changeover pair (NO + NC contact).

A single normally-open contact reads a cut wire as "nobody inside". With the pair, exactly one
contact is closed in every healthy state; both open (cut wire, unplugged sensor, dead supply) or
both closed (short, stuck relay contact) is a fault. A changeover relay passes through "both open"
for a few milliseconds, so a mismatch is a fault only once it has lasted `grace_s`. Meanwhile (and
after) a mismatched zone counts as occupied: the safe reading for the never-trapped rule.

The driver reports a supervision fault as tamper (same stance: doors secured, way back open),
and logs which zone and how it failed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class PresenceSupervision:
    """`no` / `nc`: gpiozero input devices, active when their contact is closed (same order)."""

    def __init__(self, no: Sequence, nc: Sequence, grace_s: float, on_change: Callable[[], None],
                 monotonic: Callable[[], float] = time.monotonic):
        self._no, self._nc, self.grace_s = list(no), list(nc), grace_s
        self._on_change, self._monotonic = on_change, monotonic
        self._since: dict[int, float] = {}
        self._lock = threading.Lock()

    @property
    def nc_contacts(self) -> list:
        return list(self._nc)

    def occupied(self) -> int:
        """Zones with somebody sensed, a mismatched zone counted as occupied."""
        return sum(1 for zone, no in enumerate(self._no) if no.is_active or self._mismatched(zone))

    def _mismatched(self, zone: int) -> bool:
        return bool(self._nc) and self._no[zone].is_active == self._nc[zone].is_active

    def faulted(self) -> list[int]:
        """Zones whose mismatch has lasted the grace time (starts the clock on a new one)."""
        now, faults = self._monotonic(), []
        with self._lock:
            for zone in range(len(self._nc)):
                if not self._mismatched(zone):
                    self._since.pop(zone, None)
                    continue
                started = self._since.setdefault(zone, now)
                if now - started >= self.grace_s:
                    faults.append(zone)
                elif started == now:
                    self._recheck_later()
        return faults

    def _recheck_later(self) -> None:
        timer = threading.Timer(self.grace_s + 0.01, self._on_change)
        timer.daemon = True
        timer.start()

    def describe(self, zone: int) -> str:
        how = "both contacts closed (short or stuck)" if self._no[zone].is_active else "both contacts open (wire cut?)"
        return f"presence zone {zone + 1}: {how}"
