"""A small builder used inside one pure `step`: the next LaneData plus the actions, and the
primitive moves (timers, doors, screens) every handler shares. Nothing here outlives a step."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from drivers.gate.layout import Door
from firmware_app.kiosk.view import MAX_SECONDS_LEFT, KioskView

from .actions import (
    Action,
    AlarmKind,
    CancelTimer,
    CloseDoor,
    ExceptionKind,
    OpenDoor,
    RaiseAlarm,
    RecordException,
    SecureDoors,
    ShowScreen,
    StartTimer,
)
from .state import HELD_OPEN_TIMER, LaneData, State, TimerKind, Transaction

HELD_OPEN_KINDS = frozenset(HELD_OPEN_TIMER.values())
# The traveller's own waits, counted down on the kiosk (chip and decision are the machine's).
COUNTDOWNS = {State.DOCUMENT: (TimerKind.DOCUMENT,), State.FACE: (TimerKind.FACE,),
              State.PASSAGE: (TimerKind.ENTER, TimerKind.EXIT), State.REFER: (TimerKind.REFER,)}


class Step:
    def __init__(self, data: LaneData, now: datetime, mono: float | None = None):
        self.data = data
        self.now = now
        self.mono = mono        # the monotonic clock's reading; durations are measured on it
        self.actions: list[Action] = []

    # --- data -------------------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        self.data = replace(self.data, **changes)

    def to(self, state: State) -> None:
        self.set(state=state)

    @property
    def txn(self) -> Transaction | None:
        return self.data.txn

    @property
    def active(self) -> Transaction:
        """The running transaction, for the handlers that run only inside one."""
        assert self.data.txn is not None
        return self.data.txn

    def update_txn(self, **changes: Any) -> None:
        self.set(txn=replace(self.active, **changes))

    def mark(self, step: str) -> None:
        self.set(txn=self.active.mark(step, self.now, self.mono))

    def emit(self, *actions: Action) -> None:
        self.actions.extend(actions)

    def result(self) -> tuple[LaneData, tuple[Action, ...]]:
        return self.data, tuple(self.actions)

    # --- timers -----------------------------------------------------------------------------
    def start_timer(self, kind: TimerKind, seconds: float) -> None:
        token = self.data.timer_seq + 1
        self.forget_timer(kind)
        timers = self.data.timers + ((kind, token),)
        deadlines = tuple(d for d in self.data.deadlines if d[0] is not kind)
        mono = None if self.mono is None else self.mono + seconds
        deadlines += ((kind, self.now + timedelta(seconds=seconds), mono),)
        self.set(timer_seq=token, timers=timers, deadlines=deadlines)
        self.emit(StartTimer(kind, seconds, token))

    def cancel_timer(self, kind: TimerKind) -> None:
        if self.data.timer_token(kind) is None:
            return
        self.forget_timer(kind)
        self.emit(CancelTimer(kind))

    def forget_timer(self, kind: TimerKind) -> None:
        """Drop `kind`'s token without telling the runner: for a timer that has just fired (its
        Timeout is being handled) or is being started again. A later Timeout of it is stale."""
        self.set(timers=tuple((k, t) for k, t in self.data.timers if k is not kind))

    def cancel_timers(self, keep_held_open: bool = True) -> None:
        keep = HELD_OPEN_KINDS if keep_held_open else frozenset()
        if self.data.leaving is not None:
            keep = keep | {TimerKind.EXIT}      # the exit timer of the traveller walking out
        for kind, _ in self.data.timers:
            if kind not in keep:
                self.cancel_timer(kind)

    # --- doors ------------------------------------------------------------------------------
    def open_door(self, door: Door) -> None:
        self.set(commanded_open=self.data.commanded_open | {door}, closing=self.data.closing - {door},
                 closing_behind=None)
        self.cancel_timer(HELD_OPEN_TIMER[door])
        txn = self.txn     # a door opens inside a transaction only for its PASS passage
        self.emit(OpenDoor(door, txn.txn_id if txn is not None else None))

    def close_door(self, door: Door) -> None:
        self.set(commanded_open=self.data.commanded_open - {door})
        self.emit(CloseDoor(door))
        self._watch_closing(door)

    def secure_doors(self) -> None:
        """Lock everything; doors still sensed open are watched until they close.

        While somebody is being let back out (retreat), the entry stays released: only the other
        doors are locked, so nobody is shut in by a referral, a fault or the end of an emergency.
        """
        if self.data.retreat:
            for door in self.data.settings.doors:
                if door is not Door.ENTRY:
                    self.close_door(door)
            return
        if self.data.leaving is not None:
            # a traveller walks out behind the lane (leaving.py): every other door is locked, their
            # exit shuts behind them when they are out (locking it now could shut it on them)
            for door in self.data.settings.doors:
                if door is not Door.EXIT:
                    self.close_door(door)
            return
        opened = self.data.commanded_open | self.data.sensed_open
        self.set(commanded_open=frozenset(), closing_behind=None)
        self.emit(SecureDoors())
        for door in sorted(opened):
            self._watch_closing(door)

    def _watch_closing(self, door: Door) -> None:
        if door in self.data.sensed_open and door not in self.data.closing:
            self.set(closing=self.data.closing | {door})
            self.start_timer(HELD_OPEN_TIMER[door], self.data.settings.timeouts.held_open_s)

    def door_is_shut(self, door: Door) -> bool:
        return door not in self.data.sensed_open

    # --- outputs ----------------------------------------------------------------------------
    def show(self, view: KioskView) -> None:
        """Show `view` with the running wait's countdown and the assistance flag filled in."""
        view = replace(view, seconds_left=self.seconds_left(), assistance_called=self.data.assistance)
        self.set(view=view)
        self.emit(ShowScreen(view))

    def reshow(self) -> None:
        if self.data.view is not None:
            self.show(self.data.view)

    def seconds_left(self) -> float | None:
        for kind in COUNTDOWNS.get(self.data.state, ()):
            left = self.time_left(kind)
            if left is not None:
                return round(min(left, MAX_SECONDS_LEFT), 1)
        return None

    def time_left(self, kind: TimerKind) -> float | None:
        """Seconds until `kind`'s deadline (>= 0): on the monotonic clock when it has one."""
        deadline = self.data.deadline(kind)
        if deadline is None:
            return None
        wall, mono = deadline
        left = mono - self.mono if mono is not None and self.mono is not None else (wall - self.now).total_seconds()
        return max(left, 0.0)

    def alarm(self, kind: AlarmKind, detail: str = "") -> None:
        self.emit(RaiseAlarm(kind, self.txn.txn_id if self.txn else None, detail))

    def exception(self, kind: ExceptionKind, detail: str = "") -> None:
        txn_id = self.txn.txn_id if self.txn else None
        if self.txn is not None:
            self.set(txn=self.txn.noted(kind.value))
        self.emit(RecordException(kind, txn_id, detail))
