"""The next traveller is checked while the one before walks out behind the lane (lane/leaving.py),
and the one-person interlock holds: the entry opens only once they are out and the exit is
confirmed shut; a referral, a lingering traveller, a second person, a fault and an emergency all
leave the doors as safe as before. Pure lane (lane_helpers), then the runner on MockFactory pins."""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door
from firmware_app.lane import events as ev
from firmware_app.lane.actions import (
    AlarmKind,
    CloseDoor,
    OpenDoor,
    OverrideAnswered,
    OverrideRefusal,
    RecordCrossing,
    SecureDoors,
)
from firmware_app.lane.state import Fault, Phase, State, TimerKind
from firmware_app.policy import ReasonCode
from tests.lane_helpers import PASS, REFER, Lane, alarms, door_invariant_holds, good_chip, good_face, mrz, to_passage
from tests.lane_rig import ENTRY_RELAY, EXIT_RELAY, EXIT_SENSOR, PRESENCE, Rig
from tests.polling import wait_until


def _walking_out() -> Lane:
    """The first traveller inside, the entry shut behind them, the exit open: they walk out."""
    lane = Lane()
    to_passage(lane)
    lane.send(ev.PresenceChanged(1))
    lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.DoorOpened(Door.EXIT))
    return lane


def _next_decided(lane: Lane, decision=PASS) -> str:
    lane.send(ev.DocumentPresented(mrz()))
    txn = lane.txn_id
    lane.send(ev.ChipResult(txn, good_chip()))
    lane.send(ev.FaceResult(txn, good_face()))
    lane.send(ev.DecisionMade(txn, decision))
    return txn


def _opened(lane: Lane, door: Door, since: int = 0) -> bool:
    return any(isinstance(a, OpenDoor) and a.door is door for a in lane.actions[since:])


def _outcomes(lane: Lane) -> list[str]:
    return [r.record.outcome for r in lane.of(RecordCrossing)]


def test_the_next_document_is_read_while_the_previous_traveller_is_inside():
    lane = _walking_out()
    first = lane.data.leaving
    assert first is not None and first.phase is Phase.EXITING and lane.state is State.IDLE
    assert lane.data.commanded_open == {Door.EXIT} and lane.data.presence == 1 and door_invariant_holds(lane.data)
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.state is State.CHIP and lane.txn_id != first.txn_id      # a second transaction, checked
    assert lane.data.leaving == first and door_invariant_holds(lane.data)


def test_the_entry_opens_only_after_the_exit_has_shut_behind_the_previous_traveller():
    lane = _walking_out()
    since = len(lane.actions)
    second = _next_decided(lane)
    assert lane.data.pass_held and not _opened(lane, Door.ENTRY, since)   # one person at a time
    assert lane.state is State.DECIDE and door_invariant_holds(lane.data)
    lane.send(ev.PresenceChanged(0))                # the first is out: their crossing, the exit shuts
    assert _outcomes(lane) == ["passed"] and lane.data.leaving is None
    assert CloseDoor(Door.EXIT) in lane.last and not _opened(lane, Door.ENTRY, since)
    lane.send(ev.DoorClosed(Door.EXIT))
    assert _opened(lane, Door.ENTRY, since) and lane.state is State.PASSAGE and lane.txn_id == second
    assert lane.data.txn.decision.passed and door_invariant_holds(lane.data)


def test_a_referral_mid_overlap_locks_the_entry_and_leaves_the_exit_to_the_one_walking_out():
    lane = _walking_out()
    since = len(lane.actions)
    _next_decided(lane, REFER)
    actions = lane.actions[since:]
    assert lane.state is State.REFER and _outcomes(lane) == ["referred"]
    assert SecureDoors() not in actions and CloseDoor(Door.EXIT) not in actions    # not shut on them
    assert CloseDoor(Door.ENTRY) in actions and Door.ENTRY not in lane.data.commanded_open
    assert not _opened(lane, Door.ENTRY, since) and door_invariant_holds(lane.data)
    lane.send(ev.PresenceChanged(0))
    assert CloseDoor(Door.EXIT) in lane.last and _outcomes(lane) == ["referred", "passed"]
    lane.send(ev.DoorClosed(Door.EXIT))
    lane.send(ev.DocumentRemoved())
    assert lane.state is State.IDLE and not lane.data.commanded_open and not lane.data.sensed_open
    assert not _opened(lane, Door.ENTRY, since)


def test_a_held_pass_is_referred_when_the_previous_traveller_lingers():
    lane = _walking_out()
    since = len(lane.actions)
    _next_decided(lane)
    lane.fire(TimerKind.EXIT)
    assert AlarmKind.TRAVELLER_LINGERING in alarms(lane) and not _opened(lane, Door.ENTRY, since)
    record = lane.of(RecordCrossing)[-1].record
    assert record.outcome == "referred" and ReasonCode.MORE_THAN_ONE_PERSON in record.decision.reasons
    assert lane.data.leaving is not None and Door.EXIT in lane.data.commanded_open     # still their way out
    lane.send(ev.PresenceChanged(0))
    assert _outcomes(lane)[-1] == "passed" and "stage_timeout" in lane.of(RecordCrossing)[-1].record.exceptions


def test_a_second_person_inside_voids_the_next_check_and_holds_them_as_tailgating():
    lane = _walking_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.PresenceChanged(2))
    assert _outcomes(lane) == ["voided"] and lane.data.leaving is None
    assert lane.data.txn.phase is Phase.TAILGATE_HOLD and AlarmKind.TAILGATING in alarms(lane)
    assert Door.EXIT not in lane.data.commanded_open and Door.ENTRY in lane.data.commanded_open  # the way back


@pytest.mark.parametrize("event", [ev.TamperOn(), ev.DeviceFault(Fault.GATE_DRIVER, "gone"),
                                   ev.DoorOpened(Door.ENTRY)])
def test_a_fault_mid_overlap_voids_both_locks_the_exit_and_opens_the_way_back(event):
    lane = _walking_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(event)
    assert _outcomes(lane) == ["voided", "voided"] and lane.data.leaving is None and lane.data.txn is None
    assert lane.data.retreat and Door.ENTRY in lane.data.commanded_open and Door.EXIT not in lane.data.commanded_open
    assert AlarmKind.PERSON_INSIDE in alarms(lane) and lane.state is State.OUT_OF_SERVICE


def test_emergency_mid_overlap_voids_both_and_releases_every_door():
    lane = _walking_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.EmergencyOn())
    assert _outcomes(lane) == ["voided", "voided"] and lane.data.leaving is None
    assert lane.state is State.EMERGENCY and lane.data.commanded_open == frozenset(lane.data.settings.doors)


def test_an_override_is_refused_while_somebody_walks_out_behind_the_lane():
    lane = _walking_out()
    since = len(lane.actions)
    lane.send(ev.OfficerOverride(Door.ENTRY, ev.OverrideAction.OPEN, "officer-9", "cmd-1"))
    assert OverrideAnswered("cmd-1", False, OverrideRefusal.PASSAGE_IN_PROGRESS) in lane.last
    assert lane.data.override is None and not _opened(lane, Door.ENTRY, since)


# --- the runner, the real gate driver on MockFactory pins --------------------------------------
def _chip_then(second):
    calls = []

    def chip(txn, mrz_, cancelled):
        calls.append(txn)
        return good_chip() if len(calls) == 1 else second
    return chip


@pytest.mark.parametrize("second_chip", ["good", "unreadable"])
def test_on_pins_the_entry_relay_stays_locked_until_the_exit_has_shut_behind_the_first(second_chip):
    from firmware_app.policy import ChipEvidence, ChipStatus
    chip = good_chip() if second_chip == "good" else ChipEvidence.failed(ChipStatus.UNREADABLE, "no answer")
    rig = Rig(chip=_chip_then(chip))
    rig.runner.start()
    entry_while_exit_open = []
    try:
        rig.step_into_the_mantrap()                 # the first: inside, entry shut, exit released
        rig.pin(EXIT_SENSOR).drive_high()
        rig.runner.submit(ev.DocumentPresented(mrz()))      # the second, while the first is inside
        assert wait_until(lambda: rig.runner.data.pass_held or rig.state() is State.REFER)    # decided
        entry_while_exit_open.append(rig.pin(ENTRY_RELAY).state)
        assert rig.runner.data.leaving is not None and rig.pin(EXIT_RELAY).state is True
        rig.pin(PRESENCE).drive_high()              # the first is out through the exit
        assert wait_until(lambda: rig.pin(EXIT_RELAY).state is False)
        entry_while_exit_open.append(rig.pin(ENTRY_RELAY).state)   # the exit still sensed open
        rig.pin(EXIT_SENSOR).drive_low()
        wanted = ["passed"] if second_chip == "good" else ["referred", "passed"]
        assert wait_until(lambda: [r.outcome for r in rig.outbox.crossings] == wanted)
        if second_chip == "good":
            assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is True)      # now, and only now
        else:                                       # referred while the first was inside: all locked
            assert wait_until(lambda: rig.state() is State.IDLE)
            assert rig.pin(ENTRY_RELAY).state is False and rig.pin(EXIT_RELAY).state is False
        assert entry_while_exit_open == [False, False]
    finally:
        rig.close()
