"""Lane-wide safety rules, whatever the lane's state: emergency, tamper, device faults, door
sensors (forced / held open), presence and mode changes; never trapped (retreat); the officer
override. Emergency overrides everything at once.

Never trapped: somebody inside a mantrap outside a PASS passage can always step back out. The exit
(toward the controlled side) stays locked; the entry (toward the staffed side) is released until
nobody is inside, then it closes again, and an officer is alarmed. Triggers: a fault, tamper or
forced door during a passage with somebody inside or the entry open for them, and anybody sensed
inside while no passage runs (after a forced door, an emergency, a restart). A barrier has no space
to be trapped in: it is simply secured. Emergency overrides all of this (every door released).

Officer override: a remote officer (BMIS `override` command) opens or closes doors. Allowed only
while no traveller is in a passage; a transaction still being checked is voided (the officer takes
the lane over). While doors are held the lane is out of service for travellers. The hold ends when
the officer closes every held door, when it expires (`override_hold_s`), or on a fault; then the
doors are secured, with the never-trapped rule: somebody sensed inside a mantrap gets the entry
released (retreat) instead. The emergency input overrides the override. Every override, refusal
and end is audited as an exception event carrying the operator id.
"""
from __future__ import annotations

from drivers.gate.layout import Door, FailMode, LayoutKind

from . import events as ev
from . import leaving
from .actions import AlarmKind, ExceptionKind, OverrideAnswered, OverrideRefusal, RecordException, ReleaseDoors
from .flow import release_held_pass
from .lifecycle import settle, void
from .passage import door_closed_in_passage, presence_in_passage
from .state import HELD_OPEN_TIMER, Fault, LaneSettings, OverrideHold, State, TimerKind
from .step import Step
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
    leaving.void_all(s, ExceptionKind.EMERGENCY)    # and whoever was walking out behind the lane
    s.cancel_timers(keep_held_open=False)
    s.set(commanded_open=frozenset(s.data.settings.doors), closing=frozenset(), closing_behind=None, retreat=False,
          override=None)
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
    if s.data.leaving is not None and which not in _PASSAGE_SURVIVES:
        leaving.recall(s, ExceptionKind.DEVICE_FAULT, which.value)
        stop_transaction(s, which)      # somebody between the doors: exit locked, entry released
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
          held_open_alarmed=s.data.held_open_alarmed - {door},
          closing_behind=None if s.data.closing_behind is door else s.data.closing_behind)
    if was_watched:
        s.cancel_timer(HELD_OPEN_TIMER[door])
    if Fault.DOOR_FORCED in s.data.faults and not (s.data.sensed_open - s.data.commanded_open):
        s.set(faults=s.data.faults - {Fault.DOOR_FORCED})
    if s.data.pass_held and s.data.closing_behind is None:
        release_held_pass(s)
    elif s.data.state is State.CLOSING and s.txn is not None:
        door_closed_in_passage(s, door)
    elif s.data.state is State.OUT_OF_SERVICE:
        settle(s)


def held_open_timeout(s: Step, door: Door) -> None:
    s.forget_timer(HELD_OPEN_TIMER[door])
    if door not in s.data.sensed_open:
        s.set(closing=s.data.closing - {door})
        return
    s.set(held_open_alarmed=s.data.held_open_alarmed | {door})
    s.alarm(AlarmKind.DOOR_HELD_OPEN, door.value)
    s.exception(ExceptionKind.DOOR_HELD_OPEN, door.value)
    if s.data.closing_behind is door:       # it did not shut behind the last traveller: out of service
        s.set(closing_behind=None)
        if s.data.pass_held:
            release_held_pass(s)             # the lane is not clear: that traveller is referred
        else:
            settle(s)


def presence(s: Step, count: int) -> None:
    s.set(presence=count)
    if retreat_presence(s, count) or _walking_out(s, count) or s.txn is None:
        return
    s.update_txn(max_presence=max(s.txn.max_presence, count))
    if s.txn.phase is not None:
        presence_in_passage(s, count)


def _walking_out(s: Step, count: int) -> bool:
    """The traveller walking out behind the lane: True when the change is theirs alone (the next
    traveller is outside the gate and not counted). A second person brings the passage back."""
    if s.data.leaving is None:
        return False
    if count >= 2:
        leaving.recall(s, ExceptionKind.TAILGATING, f"presence {count} behind the lane")
        return False                    # handled below as in any passage (tailgating)
    if count == 0:
        leaving.out(s)
        if s.data.pass_held and s.data.closing_behind is None:
            release_held_pass(s)        # the exit was already shut: the next PASS may go
    return True


def leaving_timeout(s: Step) -> None:
    """The traveller walking out lingers past their exit timer: the officer is called (the doors
    stay as they are), and a PASS held for the next traveller is referred (the lane is not clear)."""
    s.forget_timer(TimerKind.EXIT)
    leaving.lingering(s)
    if s.data.pass_held:
        release_held_pass(s)


def mode_changed(s: Step, event: ev.ModeChanged) -> None:
    s.set(mode=event.mode)      # a running transaction finishes under the mode it started in
    if s.data.state in (State.IDLE, State.CLOSED):
        settle(s)


# --- never trapped (retreat) ---------------------------------------------------------------
def mantrap(s: Step) -> bool:
    return s.data.settings.layout is LayoutKind.MANTRAP


def in_passage(s: Step) -> bool:
    return s.txn is not None and s.txn.phase is not None


def may_be_inside(s: Step) -> bool:
    """Somebody is, or may be about to be, between the doors of this passage."""
    return s.data.presence > 0 or Door.ENTRY in s.data.commanded_open


def start_retreat(s: Step, why: str) -> None:
    """Lock the exit, release the entry, alarm the officer (once per retreat)."""
    if not mantrap(s) or s.data.emergency:
        return
    first = not s.data.retreat
    s.set(retreat=True)
    s.secure_doors()                    # with retreat set: everything but the entry
    if Door.ENTRY not in s.data.commanded_open:
        s.open_door(Door.ENTRY)
    s.start_timer(TimerKind.RETREAT, s.data.settings.timeouts.retreat_s)
    if first:
        s.alarm(AlarmKind.PERSON_INSIDE, f"entry released for retreat, exit locked: {why}")
        s.exception(ExceptionKind.RETREAT, why)


def end_retreat(s: Step) -> None:
    """Nobody inside any more: close the entry; the lane settles once it is confirmed shut."""
    s.set(retreat=False)
    s.cancel_timer(TimerKind.RETREAT)
    if Door.ENTRY in s.data.commanded_open:
        s.close_door(Door.ENTRY)
    if s.data.state is State.OUT_OF_SERVICE:
        settle(s)       # a door still closing keeps it out of service until its sensor confirms


def retreat_presence(s: Step, count: int) -> bool:
    """True when the presence change ended the retreat."""
    if s.data.retreat and count == 0:
        end_retreat(s)
        return True
    return False


def retreat_timeout(s: Step) -> None:
    s.forget_timer(TimerKind.RETREAT)
    if not s.data.retreat:
        return
    if s.data.presence == 0:
        end_retreat(s)
        return
    # still inside: the entry stays released until they leave or an officer comes
    s.alarm(AlarmKind.TRAVELLER_LINGERING, "inside after retreat")


def check_inside(s: Step) -> None:
    """After every step: anybody inside a mantrap outside a passage gets the way back opened."""
    if s.data.retreat or s.data.emergency or not mantrap(s) or s.data.presence == 0 or in_passage(s):
        return
    if s.data.leaving is not None:
        return      # the traveller walking out behind the lane (their own rules: _walking_out)
    if s.data.override is not None:
        return      # an officer holds the doors; the hold's end applies this rule
    start_retreat(s, f"presence {s.data.presence} outside a passage")
    if s.data.state in (State.IDLE, State.CLOSED):
        settle(s)


# --- officer override ----------------------------------------------------------------------
def officer_override(s: Step, event: ev.OfficerOverride) -> None:
    refusal = _refusal(s, event)
    if refusal is not None:
        # not noted on a running transaction: the traveller's record is not the officer's audit
        s.emit(RecordException(ExceptionKind.OFFICER_OVERRIDE, None, _audit(event, f"refused {refusal.value}")))
        s.emit(OverrideAnswered(event.command_id, False, refusal))
        return
    if event.action is ev.OverrideAction.OPEN:
        _open(s, event)
    else:
        _close(s, event)
    s.emit(OverrideAnswered(event.command_id, True))


def _doors(s: Step, event: ev.OfficerOverride) -> frozenset[Door]:
    return frozenset(s.data.settings.doors) if event.door is None else frozenset({event.door})


def _refusal(s: Step, event: ev.OfficerOverride) -> OverrideRefusal | None:
    if s.data.emergency:
        return OverrideRefusal.EMERGENCY
    if event.door is not None and event.door not in s.data.settings.doors:
        return OverrideRefusal.NO_SUCH_DOOR
    if in_passage(s) or s.data.leaving is not None:
        return OverrideRefusal.PASSAGE_IN_PROGRESS
    if s.data.retreat and (event.action is ev.OverrideAction.OPEN or Door.ENTRY in _doors(s, event)):
        return OverrideRefusal.PERSON_INSIDE
    if event.action is ev.OverrideAction.OPEN and s.data.faults:
        return OverrideRefusal.LANE_FAULTED
    return None


def _audit(event: ev.OfficerOverride, what: str) -> str:
    door = event.door.value if event.door is not None else "all"
    return f"{what}: {event.action.value} {door} by operator {event.operator_id} (command {event.command_id})"


def _open(s: Step, event: ev.OfficerOverride) -> None:
    if s.txn is not None:
        void(s, ExceptionKind.OFFICER_OVERRIDE, "lane taken over by an officer")
    doors = _doors(s, event)
    held = s.data.override.doors if s.data.override is not None else frozenset()
    s.set(override=OverrideHold(held | doors, event.operator_id, event.command_id))
    for door in sorted(doors - s.data.commanded_open):
        s.open_door(door)
    s.start_timer(TimerKind.OVERRIDE, s.data.settings.timeouts.override_hold_s)   # each open restarts it
    s.exception(ExceptionKind.OFFICER_OVERRIDE, _audit(event, "done"))
    settle(s)


def _close(s: Step, event: ev.OfficerOverride) -> None:
    s.exception(ExceptionKind.OFFICER_OVERRIDE, _audit(event, "done"))
    hold = s.data.override
    if hold is None:
        return      # nothing held: the lane already keeps its doors as its own rules want them
    remaining = hold.doors - _doors(s, event)
    if not remaining:
        end_override(s, "closed by the officer")
        return
    for door in sorted((hold.doors - remaining) & s.data.commanded_open):
        s.close_door(door)
    s.set(override=OverrideHold(remaining, hold.operator_id, hold.command_id))


def override_timeout(s: Step) -> None:
    s.forget_timer(TimerKind.OVERRIDE)
    hold = s.data.override
    if hold is None:
        return
    s.exception(ExceptionKind.OFFICER_OVERRIDE,
                f"hold expired, doors secured (operator {hold.operator_id}, command {hold.command_id})")
    end_override(s, "hold expired")


def end_override(s: Step, why: str) -> None:
    """Secure the held doors; never lock somebody inside a mantrap (entry released instead)."""
    hold = s.data.override
    if hold is None:
        return
    s.set(override=None)
    s.cancel_timer(TimerKind.OVERRIDE)
    if mantrap(s) and s.data.presence > 0 and not s.data.emergency:
        start_retreat(s, f"inside when the officer override ended ({why})")
    else:
        for door in sorted(hold.doors & s.data.commanded_open):
            s.close_door(door)
    settle(s)
