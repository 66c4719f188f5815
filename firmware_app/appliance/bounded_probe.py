"""A device probe bounded in time, for pollers that must notice a device that stopped answering.

libpcsclite waits for pcscd without any timeout: a pcscd that is stopped or deadlocked (not dead)
holds `card_present` for as long as it hangs, and a poller calling it directly goes silent instead
of reporting the fault. Here the probe runs on one worker thread of its own and each poll waits for
its answer up to a deadline; no answer by then is a failed poll (ProbeTimeout).

At most one probe is outstanding: while it is stuck, a poll asks nothing new but waits (again up
to the deadline) for that probe's answer, so a hung daemon never collects a pile of stuck threads,
and the answer it gives when it wakes is the answer of the poll then waiting.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from firmware_app.errors import GateError

T = TypeVar("T")

# A presence poll (a fresh PC/SC context, the reader list, one state query) answers in under 1 ms
# (median), idle or while chip reads run back to back on the same reader; the worst seen was 0.23 s
# (bench presence_probe, on the loaded 2-core bench box). A 1 s deadline is far above that. With
# PresenceWatch's rule (3 failed polls in a row, each waiting up to the deadline, 0.2 s apart) the
# lane goes out of service about 3.5 s after pcscd stopped answering: one probe must hang that long
# (15x the worst seen) to be a fault, and a hang is still seen well inside smartcard.read_timeout_s
# (10 s) and lane.chip_s (15 s).
PROBE_DEADLINE_S = 1.0


class ProbeTimeout(GateError):
    """The probe (this poll's, or the stuck one it waited for again) gave no answer within the deadline."""


class BoundedProbe(Generic[T]):
    """`probe()` on a worker thread, each call waiting at most `deadline_s`. One caller thread only."""

    def __init__(self, probe: Callable[[], T], deadline_s: float = PROBE_DEADLINE_S, name: str = "bounded-probe"):
        self._probe, self.deadline_s = probe, deadline_s
        self._asked: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
        self._outstanding = False       # asked and not answered yet (only the caller's thread reads it)
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> BoundedProbe[T]:
        self._thread.start()
        return self

    def close(self) -> None:
        """The worker ends after its current probe (a stuck one: once the device answers it)."""
        self._asked.put(False)

    @property
    def outstanding(self) -> bool:
        return self._outstanding

    def __call__(self) -> T:
        if not self._outstanding:       # a stuck probe is waited for again, never asked twice
            self._outstanding = True
            self._asked.put(True)
        try:
            answered, value = self._answers.get(timeout=self.deadline_s)
        except queue.Empty:
            raise ProbeTimeout(f"no answer within {self.deadline_s:g} s") from None
        self._outstanding = False
        if answered:
            return value  # type: ignore[return-value]  # the probe's own answer
        assert isinstance(value, Exception)
        raise value

    def _serve(self) -> None:
        while self._asked.get():
            try:
                answer: tuple[bool, object] = (True, self._probe())
            except Exception as exc:  # handed to the caller, who decides by its type
                answer = (False, exc)
            self._answers.put(answer)
