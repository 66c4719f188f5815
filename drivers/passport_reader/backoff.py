"""Exponential reconnect delay, pure (the caller sleeps)."""
from __future__ import annotations


class Backoff:
    def __init__(self, min_s: float, max_s: float, factor: float = 2.0) -> None:
        if not 0 < min_s <= max_s or factor < 1:
            raise ValueError("need 0 < min_s <= max_s and factor >= 1")
        self.min_s, self.max_s, self.factor = min_s, max_s, factor
        self._next = min_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.max_s)
        return delay

    def reset(self) -> None:
        self._next = self.min_s
