"""Events that concern the whole lane whatever its state: emergency, tamper, device faults, door
sensors (forced / held open), presence, mode changes. Emergency overrides everything at once."""
from __future__ import annotations

from drivers.gate.layout import Door

from . import events as ev
from .actions import AlarmKind, ExceptionKind, ReleaseDoors
from .lifecycle import settle, void
from .ops import Step
from .passage import door_closed_in_passage, presence_in_passage
from .state import HELD_OPEN_TIMER, Fault, State
from .views import state_view

# Faults of devices the passage does not need: a running passage may finish first.
_PASSAGE_SURVIVES = frozenset({Fault.READER, Fault.CHIP_READER, Fault.CAMERA})


def emergency_on(s: Step) -> None:
    if s.data.emergency:
        return
    s.set(emergency=True)
    s.alarm(AlarmKind.EMERGENCY)
    s.exception(ExceptionKind.EMERGENCY)
    void(s, ExceptionKind.EMERGENCY)
    s.cancel_timers(keep_held_open=False)
    s.set(commanded_open=frozenset(s.data.settings.doors), closing=frozenset())
    s.emit(ReleaseDoors())
    s.to(State.EMERGENCY)
    s.show(state_view(State.EMERGENCY))


def emergency_off(s: Step) -> None:
    if not s.data.emergency:
        return
    s.set(emergency=False)
    s.secure_doors()
    settle(s)


def tamper(s: Step, on: bool) -> None:
    if on and Fault.TAMPER not in s.data.faults:
        s.alarm(AlarmKind.TAMPER)
        s.exception(ExceptionKind.TAMPER)
    fault(s, Fault.TAMPER, on)


def device_fault(s: Step, event: ev.DeviceFault) -> None:
    if event.fault not in s.data.faults:
        s.alarm(AlarmKind.DEVICE_FAULT, event.fault.value)
        s.exception(ExceptionKind.DEVICE_FAULT, f"{event.fault.value} {event.detail}".strip())
    fault(s, event.fault, True)


def fault(s: Step, which: Fault, on: bool) -> None:
    faults = s.data.faults | {which} if on else s.data.faults - {which}
    s.set(faults=faults)
    if not on:
        if s.data.state is State.OUT_OF_SERVICE:
            settle(s)
        return
    if s.data.emergency:
        return      # doors stay released; the fault is remembered for afterwards
    passage_running = s.txn is not None and s.txn.phase is not None
    if s.txn is not None and not (passage_running and which in _PASSAGE_SURVIVES):
        void(s, ExceptionKind.DEVICE_FAULT, which.value)
        s.secure_doors()
    if s.txn is None:
        s.secure_doors()
        settle(s)


def door_opened(s: Step, door: Door) -> None:
    if door in s.data.sensed_open:
        return      # a repeated report of what we already know
    s.set(sensed_open=s.data.sensed_open | {door})
    if s.data.emergency or door in s.data.commanded_open:
        return
    # opened without a command: forced (or a lock failed); the lane stops until it is shut again
    s.alarm(AlarmKind.DOOR_FORCED, door.value)
    s.exception(ExceptionKind.DOOR_FORCED, door.value)
    fault(s, Fault.DOOR_FORCED, True)


def door_closed(s: Step, door: Door) -> None:
    was_watched = door in s.data.closing
    s.set(sensed_open=s.data.sensed_open - {door}, closing=s.data.closing - {door},
          held_open_alarmed=s.data.held_open_alarmed - {door})
    if was_watched:
        s.cancel_timer(HELD_OPEN_TIMER[door])
    if Fault.DOOR_FORCED in s.data.faults and not s.data.sensed_open:
        s.set(faults=s.data.faults - {Fault.DOOR_FORCED})
    if s.data.state is State.CLOSING and s.txn is not None:
        door_closed_in_passage(s, door)
    elif s.data.state is State.OUT_OF_SERVICE:
        settle(s)


def held_open_timeout(s: Step, door: Door) -> None:
    s.set(timers=tuple((k, t) for k, t in s.data.timers if k is not HELD_OPEN_TIMER[door]))
    if door not in s.data.sensed_open:
        s.set(closing=s.data.closing - {door})
        return
    s.set(held_open_alarmed=s.data.held_open_alarmed | {door})
    s.alarm(AlarmKind.DOOR_HELD_OPEN, door.value)
    s.exception(ExceptionKind.DOOR_HELD_OPEN, door.value)


def presence(s: Step, count: int) -> None:
    s.set(presence=count)
    if s.txn is None:
        return
    s.update_txn(max_presence=max(s.txn.max_presence, count))
    if s.txn.phase is not None:
        presence_in_passage(s, count)


def mode_changed(s: Step, event: ev.ModeChanged) -> None:
    s.set(mode=event.mode)      # a running transaction finishes under the mode it started in
    if s.data.state in (State.IDLE, State.CLOSED):
        settle(s)
