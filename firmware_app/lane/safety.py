"""Events that concern the whole lane whatever its state: emergency, tamper, device faults, door
sensors (forced / held open), presence, mode changes. Emergency overrides everything at once."""
from __future__ import annotations

from drivers.gate.layout import Door, FailMode

from . import events as ev
from .actions import AlarmKind, ExceptionKind, ReleaseDoors
from .lifecycle import settle, void
from .ops import Step
from .override import end_override
from .passage import door_closed_in_passage, presence_in_passage
from .retreat import in_passage, may_be_inside, mantrap, retreat_presence, start_retreat
from .state import HELD_OPEN_TIMER, Fault, LaneSettings, State
from .views import state_view

# Faults of devices the passage does not need: a running passage may finish first.
_PASSAGE_SURVIVES = frozenset({Fault.READER, Fault.CHIP_READER, Fault.CAMERA, Fault.DECIDER, Fault.KIOSK,
                               Fault.FACE_MODELS, Fault.TRUST_STORE, Fault.BMIS_LINK})


def emergency_on(s: Step) -> None:
    if s.data.emergency:
        return
    s.set(emergency=True)
    s.alarm(AlarmKind.EMERGENCY)
    s.exception(ExceptionKind.EMERGENCY)
    void(s, ExceptionKind.EMERGENCY)
    s.cancel_timers(keep_held_open=False)
    s.set(commanded_open=frozenset(s.data.settings.doors), closing=frozenset(), retreat=False, override=None)
    s.emit(ReleaseDoors())
    s.to(State.EMERGENCY)
    s.show(state_view(State.EMERGENCY))


def emergency_off(s: Step) -> None:
    if not s.data.emergency:
        return
    s.set(emergency=False)
    if mantrap(s) and s.data.presence > 0:
        start_retreat(s, "inside when the emergency ended")    # never lock them in afterwards
    else:
        s.secure_doors()
    settle(s)


def tamper(s: Step, on: bool) -> None:
    if on and Fault.TAMPER not in s.data.faults:
        s.alarm(AlarmKind.TAMPER)
        s.exception(ExceptionKind.TAMPER)
    fault(s, Fault.TAMPER, on)


def device_fault(s: Step, event: ev.DeviceFault) -> None:
    if event.fault not in s.data.faults:
        detail = event.fault.value
        if event.fault is Fault.GATE_DRIVER:
            detail += "; " + gate_failure_note(s.data.settings)
        s.alarm(AlarmKind.DEVICE_FAULT, detail)
        s.exception(ExceptionKind.DEVICE_FAULT, f"{event.fault.value} {event.detail}".strip())
    fault(s, event.fault, True)


def gate_failure_note(settings: LaneSettings) -> str:
    """What the doors do physically when the driver cannot command them: their fail mode decides."""
    modes = dict(settings.fail_modes)
    parts = []
    for door in settings.doors:
        mode = modes.get(door)
        if mode is None:
            parts.append(f"{door.value}: fail mode unknown")
        else:
            rest = "released" if mode is FailMode.FAIL_SAFE else "locked"
            parts.append(f"{door.value} {mode.value}: {rest} once its relay drops")
    return "doors may not answer commands; " + ", ".join(parts)


def fault(s: Step, which: Fault, on: bool) -> None:
    already = which in s.data.faults
    s.set(faults=s.data.faults | {which} if on else s.data.faults - {which})
    if not on:
        if already:
            restored(s, which)
        return
    if already or s.data.emergency:
        return      # nothing new (a failing command must not loop); emergency keeps doors released
    end_override(s, which.value)    # a fault secures the doors, whoever opened them
    if s.txn is not None and not (in_passage(s) and which in _PASSAGE_SURVIVES):
        stop_transaction(s, which)
    if s.txn is None:
        if not s.data.retreat:      # a retreat already keeps the exit locked and the entry free
            s.secure_doors()
        settle(s)


def stop_transaction(s: Step, which: Fault) -> None:
    """Void it; if somebody may be between the doors, lock the exit and open the way back."""
    inside = in_passage(s) and may_be_inside(s)
    void(s, ExceptionKind.DEVICE_FAULT, which.value)
    if inside:
        start_retreat(s, f"{which.value} during passage")


def restored(s: Step, which: Fault) -> None:
    """A restored gate driver gets its doors commanded again first (they may have dropped)."""
    if which is Fault.GATE_DRIVER:
        if s.data.emergency:
            s.emit(ReleaseDoors())
        else:
            resecure(s)
    if s.data.state is State.OUT_OF_SERVICE:
        settle(s)


def resecure(s: Step) -> None:
    s.secure_doors()
    if s.data.retreat:
        s.open_door(Door.ENTRY)     # re-assert the way back; the relay may have dropped


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
    if Fault.DOOR_FORCED in s.data.faults and not (s.data.sensed_open - s.data.commanded_open):
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
    if retreat_presence(s, count) or s.txn is None:
        return
    s.update_txn(max_presence=max(s.txn.max_presence, count))
    if s.txn.phase is not None:
        presence_in_passage(s, count)


def mode_changed(s: Step, event: ev.ModeChanged) -> None:
    s.set(mode=event.mode)      # a running transaction finishes under the mode it started in
    if s.data.state in (State.IDLE, State.CLOSED):
        settle(s)
