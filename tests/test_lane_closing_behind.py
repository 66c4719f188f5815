"""The next traveller's document is read while the last door shuts behind the one who left, and no
door opens for them until every door is confirmed shut (one passage at a time, secured on doubt)."""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door, LayoutKind
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind, OpenDoor, RecordCrossing
from firmware_app.lane.state import HELD_OPEN_TIMER, State
from firmware_app.policy import ReasonCode
from tests.lane_helpers import PASS, Lane, alarms, door_invariant_holds, good_chip, good_face, mrz, to_passage


def _walked_out(layout: LayoutKind = LayoutKind.MANTRAP) -> tuple[Lane, Door]:
    """A passage up to the traveller leaving through the last door, which has not shut yet."""
    lane = Lane(layout)
    to_passage(lane)
    lane.send(ev.PresenceChanged(1))
    last = Door.ENTRY
    if layout is LayoutKind.MANTRAP:
        lane.send(ev.DoorClosed(Door.ENTRY))
        lane.send(ev.DoorOpened(Door.EXIT))
        last = Door.EXIT
    lane.send(ev.PresenceChanged(0))
    return lane, last


def _next_traveller_decided(lane: Lane) -> None:
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.FaceResult(lane.txn_id, good_face()))
    lane.send(ev.DecisionMade(lane.txn_id, PASS))


def _entry_opens(lane: Lane, since: int) -> bool:
    return any(isinstance(a, OpenDoor) and a.door is Door.ENTRY for a in lane.actions[since:])


@pytest.mark.parametrize("layout", [LayoutKind.MANTRAP, LayoutKind.BARRIER])
def test_the_crossing_is_recorded_and_the_lane_ready_when_the_traveller_is_out(layout):
    lane, last = _walked_out(layout)
    assert [r.record.outcome for r in lane.of(RecordCrossing)] == ["passed"]
    assert lane.state is State.IDLE and lane.data.txn is None
    assert last in lane.data.closing and lane.data.timer_token(HELD_OPEN_TIMER[last]) is not None
    assert not lane.data.commanded_open and door_invariant_holds(lane.data)


@pytest.mark.parametrize("layout", [LayoutKind.MANTRAP, LayoutKind.BARRIER])
def test_a_pass_before_the_last_door_is_shut_waits_for_it_then_opens(layout):
    """A genuine traveller decided quickly is not referred because the door behind the previous
    one is slow: the PASS waits for that door and only then opens the entry."""
    lane, last = _walked_out(layout)
    since = len(lane.actions)
    _next_traveller_decided(lane)
    assert not _entry_opens(lane, since) and lane.data.pass_held and lane.data.txn is not None
    assert [r.record.outcome for r in lane.of(RecordCrossing)] == ["passed"]        # the previous one only
    lane.send(ev.DoorClosed(last))
    assert _entry_opens(lane, since) and lane.state is State.PASSAGE and not lane.data.pass_held


def test_a_held_pass_is_referred_when_the_door_behind_does_not_shut_in_time():
    lane, last = _walked_out()
    since = len(lane.actions)
    _next_traveller_decided(lane)
    lane.fire(HELD_OPEN_TIMER[last])
    assert not _entry_opens(lane, since) and lane.state is State.REFER
    record = lane.of(RecordCrossing)[-1].record
    assert record.outcome == "referred" and ReasonCode.MORE_THAN_ONE_PERSON in record.decision.reasons


def test_a_held_pass_is_referred_when_somebody_comes_in_meanwhile():
    lane, last = _walked_out()
    _next_traveller_decided(lane)
    lane.send(ev.PresenceChanged(1))                # back in through the closing exit
    lane.send(ev.DoorClosed(last))
    record = lane.of(RecordCrossing)[-1].record
    assert record.outcome == "referred" and ReasonCode.MORE_THAN_ONE_PERSON in record.decision.reasons
    assert lane.state is not State.PASSAGE and lane.data.retreat        # only the way back is open


def test_emergency_while_a_pass_is_held_voids_it_and_releases_everything():
    lane, _ = _walked_out()
    _next_traveller_decided(lane)
    lane.send(ev.EmergencyOn())
    assert lane.state is State.EMERGENCY and not lane.data.pass_held
    assert lane.of(RecordCrossing)[-1].record.outcome == "voided"


def test_the_next_traveller_passes_once_the_exit_is_confirmed_shut():
    lane, last = _walked_out()
    lane.send(ev.DocumentPresented(mrz()))      # read while the exit shuts
    assert lane.state is State.CHIP
    lane.send(ev.DoorClosed(last))
    assert lane.data.closing_behind is None and lane.state is State.CHIP
    since = len(lane.actions)
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.FaceResult(lane.txn_id, good_face()))
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    assert _entry_opens(lane, since) and lane.state is State.PASSAGE


def test_an_exit_that_does_not_shut_in_time_takes_the_lane_out_of_service():
    lane, last = _walked_out()
    lane.fire(HELD_OPEN_TIMER[last])
    assert AlarmKind.DOOR_HELD_OPEN in alarms(lane)
    assert lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.data.txn is None                # no transaction starts on an unsecured lane


def test_held_open_during_the_next_read_refers_it_and_then_the_lane_is_out_of_service():
    lane, last = _walked_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.fire(HELD_OPEN_TIMER[last])
    since = len(lane.actions)
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.FaceResult(lane.txn_id, good_face()))
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    assert not _entry_opens(lane, since) and lane.state is State.REFER
    lane.send(ev.DocumentRemoved())
    assert lane.state is State.OUT_OF_SERVICE


def test_somebody_stepping_back_in_through_the_closing_exit_gets_the_way_back():
    lane, _ = _walked_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.PresenceChanged(1))
    assert lane.data.retreat and Door.ENTRY in lane.data.commanded_open
    assert AlarmKind.PERSON_INSIDE in alarms(lane)


def test_emergency_while_the_exit_shuts_releases_everything():
    lane, _ = _walked_out()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.EmergencyOn())
    assert lane.state is State.EMERGENCY and lane.data.commanded_open == frozenset(lane.data.settings.doors)
    assert lane.data.closing_behind is None
