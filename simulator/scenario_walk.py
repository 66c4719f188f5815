"""The people at a bench lane while the scenario runner drives it: the screens a traveller saw, the
walker who moves through the doors when they open, and the tail of a traveller walking out behind
the lane (lane/leaving.py) while the runner already serves the next one (load runs overlap them).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.gate.layout import Door
from firmware_app.lane.state import LaneData, Phase
from simulator.scenario import Behaviour

if TYPE_CHECKING:
    from simulator.scenario_bench import Bench
    from simulator.timing import TravellerPace

_RESTING_SCREENS = {"welcome", "place_document"}
DECIDED_STATES = {"passage", "refer", "officer_review", "closing", "out_of_service", "emergency"}
SCREEN_SETTLE_S = 0.1       # the refer screen follows the record's storage in the same lane step


class Screens:
    """The screens the traveller saw, in order; the one after "verifying" tells the outcome."""

    def __init__(self, views):
        self.seen: list[str] = []
        self._observers = views.observers
        self._observers.append(self._shown)

    def _shown(self, view) -> None:
        self.seen.append(view.screen.value)

    def close(self) -> None:
        if self._shown in self._observers:
            self._observers.remove(self._shown)

    def outcome_screen(self) -> str:
        seen = list(self.seen)
        after = seen[len(seen) - seen[::-1].index("verifying"):] if "verifying" in seen else seen
        after = [screen for screen in after if screen not in _RESTING_SCREENS]
        if not after:
            return seen[-1] if seen else "-"
        return ">".join(dict.fromkeys(after))


class Walker:
    """What the people at the gate do when the doors move."""

    def __init__(self, bench: Bench, behaviour: Behaviour, pace: TravellerPace | None = None):
        self.gate, self.behaviour = bench.gate, behaviour
        self.entered = self.pulled = self.out = False
        self.entered_at: float | None = None
        self.step_in_s = pace.step_in_s if pace else 0.0
        self.walk_out_s = pace.walk_out_s if pace else 0.0
        self._open_since: dict[Door, float] = {}

    def _walked(self, door: Door, seconds: float) -> bool:
        """With the timing model, people move only through an open door, and take their time."""
        if seconds <= 0:
            return True
        if not self.gate.is_open(door):
            return False
        since = self._open_since.setdefault(door, time.monotonic())
        return time.monotonic() - since >= seconds

    def open_since(self, door: Door) -> float | None:
        """When the walker first saw the door open (None: never, or no timing model)."""
        return self._open_since.get(door)

    def step(self, phase: Phase | None, emergency: bool) -> None:
        if phase is Phase.ENTERING and not self.entered:
            if self._walked(Door.ENTRY, self.step_in_s):
                self.entered, self.entered_at = True, time.monotonic()
                self.gate.set_inside(2 if self.behaviour is Behaviour.TAILGATE else 1)
        elif phase is Phase.EXITING and self.behaviour is not Behaviour.EMERGENCY:
            if not self.out and self._walked(self._exit_door(), self.walk_out_s):
                self.out = True
                self.gate.set_inside(0)
        elif phase is Phase.EXITING and not self.pulled:
            self.pulled = True
            self.gate.emergency(True)           # fire alarm while the traveller is inside
        elif phase is Phase.TAILGATE_HOLD:
            self.gate.set_inside(0)             # both step back out through the open entry

    def _exit_door(self) -> Door:
        return Door.EXIT if Door.EXIT in self.gate.layout.doors else Door.ENTRY

    def finish(self) -> None:
        if self.pulled:
            self.gate.set_inside(0)             # everybody leaves through the released doors
            time.sleep(0.1)
            self.gate.emergency(False)
        elif self.entered and not self.out:
            self.gate.set_inside(0)             # (once out, the next traveller may be inside already)


def phase_of(data: LaneData, txn_id: str | None) -> Phase | None:
    """The passage phase of the traveller's transaction, at the front or walking out behind the lane."""
    for txn in (data.txn, data.leaving):
        if txn is not None and txn.txn_id == txn_id:
            return txn.phase
    return None


class Tail:
    """A traveller walking out behind the lane, on a thread of their own: the walker moves them out
    when the exit opens; ends with their crossing record (or None after `timeout_s`)."""

    def __init__(self, walker: Walker, txn_id: str, lane: Callable[[], LaneData],
                 record: Callable[[str], dict | None], timeout_s: float, poll_s: float):
        self.walker, self.txn_id, self._lane, self._record = walker, txn_id, lane, record
        self._timeout_s, self._poll_s = timeout_s, poll_s
        self.message: dict | None = None
        self.done_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"tail-{txn_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            data = self._lane()
            self.walker.step(phase_of(data, self.txn_id), data.emergency)
            message = self._record(self.txn_id)
            if message is not None:
                self.message, self.done_at = message, time.monotonic()
                break
            time.sleep(self._poll_s)
        self.walker.finish()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> dict | None:
        self._thread.join(self._timeout_s + 1.0)
        return self.message
