"""A small builder used inside one pure `step`: the next LaneData plus the actions, and the
primitive moves (timers, doors, screens) every handler shares. Nothing here outlives a step."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from drivers.gate.layout import Door
from firmware_app.kiosk.view import KioskView

from .actions import (Action, CancelTimer, CloseDoor, OpenDoor, RaiseAlarm, RecordException, SecureDoors,
                      ShowScreen, StartTimer)
from .state import HELD_OPEN_TIMER, LaneData, State, TimerKind, Transaction

HELD_OPEN_KINDS = frozenset(HELD_OPEN_TIMER.values())


class Step:
    def __init__(self, data: LaneData, now: datetime):
        self.data = data
        self.now = now
        self.actions: list[Action] = []

    # --- data -------------------------------------------------------------------------------
    def set(self, **changes) -> None:
        self.data = replace(self.data, **changes)

    def to(self, state: State) -> None:
        self.set(state=state)

    @property
    def txn(self) -> Transaction | None:
        return self.data.txn

    def update_txn(self, **changes) -> None:
        self.set(txn=replace(self.data.txn, **changes))

    def mark(self, step: str) -> None:
        self.set(txn=self.data.txn.mark(step, self.now))

    def emit(self, *actions: Action) -> None:
        self.actions.extend(actions)

    def result(self) -> tuple[LaneData, tuple[Action, ...]]:
        return self.data, tuple(self.actions)

    # --- timers -----------------------------------------------------------------------------
    def start_timer(self, kind: TimerKind, seconds: float) -> None:
        token = self.data.timer_seq + 1
        timers = tuple((k, t) for k, t in self.data.timers if k is not kind) + ((kind, token),)
        self.set(timer_seq=token, timers=timers)
        self.emit(StartTimer(kind, seconds, token))

    def cancel_timer(self, kind: TimerKind) -> None:
        if self.data.timer_token(kind) is None:
            return
        self.set(timers=tuple((k, t) for k, t in self.data.timers if k is not kind))
        self.emit(CancelTimer(kind))

    def cancel_timers(self, keep_held_open: bool = True) -> None:
        for kind, _ in self.data.timers:
            if not (keep_held_open and kind in HELD_OPEN_KINDS):
                self.cancel_timer(kind)

    # --- doors ------------------------------------------------------------------------------
    def open_door(self, door: Door) -> None:
        self.set(commanded_open=self.data.commanded_open | {door}, closing=self.data.closing - {door})
        self.cancel_timer(HELD_OPEN_TIMER[door])
        self.emit(OpenDoor(door))

    def close_door(self, door: Door) -> None:
        self.set(commanded_open=self.data.commanded_open - {door})
        self.emit(CloseDoor(door))
        self._watch_closing(door)

    def secure_doors(self) -> None:
        """Lock everything; doors still sensed open are watched until they close."""
        opened = self.data.commanded_open | self.data.sensed_open
        self.set(commanded_open=frozenset())
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
        self.emit(ShowScreen(view))

    def alarm(self, kind, detail: str = "") -> None:
        self.emit(RaiseAlarm(kind, self.txn.txn_id if self.txn else None, detail))

    def exception(self, kind, detail: str = "") -> None:
        txn_id = self.txn.txn_id if self.txn else None
        if self.txn is not None:
            self.set(txn=self.txn.noted(kind.value))
        self.emit(RecordException(kind, txn_id, detail))
