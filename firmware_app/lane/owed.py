"""Writes the lane owes: reports the outbox refused and journal writes that failed (a full disk,
a locked database), kept in memory in their order and tried again until they succeed.

The traveller in the passage still gets their crossing record when the disk fills: the record
waits here (and its journal close behind it), the lane is out of service meanwhile, and once the
writes go through the faults they caused are cleared and the lane takes travellers again. A
restart loses what is owed only as before: the journal row stays open and is voided at start.
"""
from __future__ import annotations

import collections
import logging
import threading
from typing import Callable

from .state import Fault

log = logging.getLogger(__name__)
MAX_OWED = 1_000    # a lane out of service makes few writes; this bounds memory if one never heals


class OwedWrites:
    def __init__(self, limit: int = MAX_OWED):
        self._limit = limit
        self._writes: collections.deque[tuple[str, Callable[[], object]]] = collections.deque()
        self._faults: set[Fault] = set()
        self._lock = threading.Lock()        # the stall helper thread may add too
        self.dropped = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._writes)

    def add(self, name: str, write: Callable[[], object], fault: Fault) -> None:
        with self._lock:
            if len(self._writes) >= self._limit:
                dropped, _ = self._writes.popleft()
                self.dropped += 1
                log.critical("owed lane write dropped (%d owed): %s", self._limit, dropped)
            self._writes.append((name, write))
            self._faults.add(fault)

    def retry(self) -> frozenset[Fault]:
        """Try the owed writes in order, stopping at the first failure; the faults they caused
        when every one went through (empty otherwise)."""
        while True:
            with self._lock:
                if not self._writes:
                    healed, self._faults = frozenset(self._faults), set()
                    return healed
                name, write = self._writes[0]
            try:
                write()
            except Exception as exc:  # noqa: BLE001 - any failure: still owed, tried again later
                log.warning("owed lane write %s still failing: %s", name, type(exc).__name__)
                return frozenset()
            with self._lock:
                if self._writes and self._writes[0][1] is write:
                    self._writes.popleft()
