"""CPU per traveller when lanes run side by side in one process.

The process CPU clock counts every thread: with two lanes busy at once, the CPU one lane's traveller
saw on it is both lanes' work, and a per-traveller figure taken as its difference counts the
overlap twice. `CpuShares` splits the process CPU between the travellers in progress instead: every
interval between two starts or ends is shared equally by the travellers in progress during it, so
the shares add up to the process CPU spent while any traveller was in progress (with one lane, each
traveller's share is its plain difference, as before).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CpuShares:
    def __init__(self, cpu_clock: Callable[[], float] = time.process_time):
        self._clock = cpu_clock
        self._lock = threading.Lock()
        self._last = 0.0
        self._shares: dict[int, float] = {}      # lane -> CPU seconds of its traveller in progress

    def start(self, lane: int) -> None:
        """`lane`'s next traveller starts now."""
        with self._lock:
            self._settle()
            self._shares[lane] = 0.0

    def end(self, lane: int) -> float:
        """`lane`'s traveller ends now: its share of the process CPU since its start."""
        with self._lock:
            self._settle()
            return self._shares.pop(lane)

    def _settle(self) -> None:
        """Share the CPU since the last start or end among the travellers then in progress."""
        now = self._clock()
        spent, self._last = now - self._last, now
        for lane in self._shares:
            self._shares[lane] += spent / len(self._shares)
