"""Officer override (BMIS `override`) in the pure lane: when it is allowed, what it does to the doors,
how it ends (officer close, hold expiry, fault, emergency) and that nobody is shut in afterwards."""
from __future__ import annotations

from drivers.gate.layout import Door, LayoutKind
from firmware_app.lane import events as ev
from firmware_app.lane.actions import (
    AlarmKind,
    CloseDoor,
    ExceptionKind,
    OpenDoor,
    OverrideAnswered,
    OverrideRefusal,
    RaiseAlarm,
    RecordCrossing,
    RecordException,
    ReleaseDoors,
)
from firmware_app.lane.state import CrossingOutcome, Fault, State, TimerKind
from tests.lane_helpers import Lane, door_invariant_holds, mrz, to_pass


def override(door, action, command_id="cmd-1", operator="officer-9"):
    return ev.OfficerOverride(door, ev.OverrideAction(action), operator, command_id)


def answer(actions) -> OverrideAnswered:
    (found,) = [a for a in actions if isinstance(a, OverrideAnswered)]
    return found


def audits(lane: Lane) -> list[str]:
    return [a.detail for a in lane.of(RecordException) if a.kind is ExceptionKind.OFFICER_OVERRIDE]


def test_open_from_idle_opens_the_door_audits_the_operator_and_expires_into_a_secured_lane():
    lane = Lane()
    actions = lane.send(override(Door.EXIT, "open"))
    assert answer(actions) == OverrideAnswered("cmd-1", True)
    assert OpenDoor(Door.EXIT) in actions and lane.state is State.OUT_OF_SERVICE
    assert "officer-9" in audits(lane)[0] and "cmd-1" in audits(lane)[0]
    lane.send(ev.DoorOpened(Door.EXIT))             # commanded: not a forced door
    assert not lane.of(RaiseAlarm)
    lane.send(ev.DocumentPresented(mrz()))          # no traveller transaction meanwhile
    assert lane.data.txn is None
    actions = lane.fire(TimerKind.OVERRIDE)
    assert CloseDoor(Door.EXIT) in actions and "hold expired" in audits(lane)[-1]
    assert lane.state is State.OUT_OF_SERVICE       # until the sensor confirms the door shut
    lane.send(ev.DoorClosed(Door.EXIT))
    assert lane.state is State.IDLE and lane.data.override is None


def test_the_officer_closes_the_held_doors_and_a_partial_close_keeps_the_rest():
    lane = Lane()
    lane.send(override(None, "open"))
    assert lane.data.commanded_open == {Door.ENTRY, Door.EXIT}
    actions = lane.send(override(Door.EXIT, "close", "cmd-2"))
    assert CloseDoor(Door.EXIT) in actions and lane.data.override.doors == {Door.ENTRY}
    actions = lane.send(override(None, "close", "cmd-3"))
    assert CloseDoor(Door.ENTRY) in actions and lane.data.override is None
    assert lane.data.timer_token(TimerKind.OVERRIDE) is None and lane.state is State.IDLE


def test_refused_while_a_traveller_is_in_passage_and_nothing_moves():
    lane = Lane()
    to_pass(lane)
    assert lane.state is State.PASSAGE
    actions = lane.send(override(Door.EXIT, "open"))
    assert answer(actions) == OverrideAnswered("cmd-1", False, OverrideRefusal.PASSAGE_IN_PROGRESS)
    assert not any(isinstance(a, (OpenDoor, CloseDoor)) for a in actions)
    assert lane.state is State.PASSAGE and lane.data.override is None
    assert "refused passage_in_progress" in audits(lane)[0]
    assert ExceptionKind.OFFICER_OVERRIDE.value not in lane.data.txn.exceptions   # not the traveller's record


def test_a_transaction_still_being_checked_is_voided_when_the_officer_takes_over():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.state is State.CHIP
    actions = lane.send(override(Door.ENTRY, "open"))
    assert answer(actions).accepted and OpenDoor(Door.ENTRY) in actions
    (record,) = [a.record for a in lane.of(RecordCrossing)]
    assert record.outcome == CrossingOutcome.VOIDED.value
    assert lane.data.txn is None and door_invariant_holds(lane.data)


def test_emergency_refuses_overrides_and_ends_a_running_one():
    lane = Lane()
    lane.send(override(Door.ENTRY, "open"))
    actions = lane.send(ev.EmergencyOn())
    assert ReleaseDoors() in actions and lane.data.override is None
    assert answer(lane.send(override(None, "close", "cmd-2"))).refusal is OverrideRefusal.EMERGENCY
    lane.send(ev.EmergencyOff())
    assert lane.data.timer_token(TimerKind.OVERRIDE) is None and lane.state is State.IDLE


def test_the_hold_ending_with_somebody_inside_a_mantrap_releases_the_entry_and_locks_the_exit():
    lane = Lane()
    lane.send(override(None, "open"))
    lane.send(ev.PresenceChanged(1))                # the officer's charge inside: no retreat meanwhile
    assert not lane.data.retreat and lane.data.commanded_open == {Door.ENTRY, Door.EXIT}
    actions = lane.send(override(None, "close", "cmd-2"))
    assert CloseDoor(Door.EXIT) in actions and CloseDoor(Door.ENTRY) not in actions
    assert lane.data.retreat and lane.data.commanded_open == {Door.ENTRY}
    assert any(a.kind is AlarmKind.PERSON_INSIDE for a in lane.of(RaiseAlarm))
    # closing the entry now would shut them in: refused
    refused = answer(lane.send(override(Door.ENTRY, "close", "cmd-3")))
    assert refused.refusal is OverrideRefusal.PERSON_INSIDE


def test_a_fault_ends_the_override_and_secures_the_doors_and_open_is_refused_while_faulted():
    lane = Lane()
    lane.send(override(Door.EXIT, "open"))
    actions = lane.send(ev.DeviceFault(Fault.CAMERA, "stalled"))
    assert lane.data.override is None and Door.EXIT not in lane.data.commanded_open
    assert any(type(a).__name__ in ("CloseDoor", "SecureDoors") for a in actions)
    refused = answer(lane.send(override(Door.EXIT, "open", "cmd-2")))
    assert refused.refusal is OverrideRefusal.LANE_FAULTED and not lane.data.commanded_open


def test_a_barrier_has_no_exit_to_override_and_stale_hold_timers_change_nothing():
    lane = Lane(layout=LayoutKind.BARRIER)
    assert answer(lane.send(override(Door.EXIT, "open"))).refusal is OverrideRefusal.NO_SUCH_DOOR
    lane.send(override(None, "open", "cmd-2"))
    assert lane.data.commanded_open == {Door.ENTRY}
    lane.send(ev.Timeout(TimerKind.OVERRIDE, 10**6))
    assert lane.data.override is not None
    lane.send(ev.PresenceChanged(1))                # a barrier has nowhere to be trapped
    lane.fire(TimerKind.OVERRIDE)
    assert lane.data.override is None and not lane.data.retreat and not lane.data.commanded_open
