"""Officer override: a remote officer (BMIS `override` command) opens or closes doors.

Allowed only while no traveller is in a passage; a transaction still being checked is voided (the
officer takes the lane over). While doors are held the lane is out of service for travellers. The
hold ends when the officer closes every held door, when it expires (`override_hold_s`), or on a
fault; then the doors are secured, with the never-trapped rule: somebody sensed inside a mantrap
gets the entry released (retreat) instead. The emergency input overrides the override.
Every override, refusal and end is audited as an exception event carrying the operator id.
"""
from __future__ import annotations

from drivers.gate.layout import Door

from . import events as ev
from .actions import ExceptionKind, OverrideAnswered, OverrideRefusal, RecordException
from .lifecycle import settle, void
from .ops import Step
from .retreat import in_passage, mantrap, start_retreat
from .state import OverrideHold, TimerKind


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
    if in_passage(s):
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
    s.set(timers=tuple((k, t) for k, t in s.data.timers if k is not TimerKind.OVERRIDE))
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
