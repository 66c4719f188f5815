"""The lane's side of the kiosk: the countdown of the running wait, 'more time' within limits, the
assistance button (officer alarmed once, flag on screen until answered), kiosk inputs as events;
and the decision guards: no door in registration-only or closed mode, audited officer answers."""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind, ExceptionKind, OpenDoor, RaiseAlarm, RecordException, ShowScreen
from firmware_app.lane.runner import traveller_event
from firmware_app.lane.state import State, TimerKind
from firmware_app.policy import LaneMode, ReasonCode
from tests.lane_helpers import PASS, REFER, Lane, good_chip, mrz, to_decide


def shown(actions) -> list:
    return [a.view for a in actions if isinstance(a, ShowScreen)]


# (how to reach the wait, its timer, its configured length)
WAITS = {
    "document": (lambda lane: lane.send(ev.DocumentUnreadable()), TimerKind.DOCUMENT, 10.0),
    "face": (lambda lane: (lane.send(ev.DocumentPresented(mrz())),
                           lane.send(ev.ChipResult(lane.txn_id, good_chip()))), TimerKind.FACE, 12.0),
    "enter": (lambda lane: (to_decide(lane), lane.send(ev.DecisionMade(lane.txn_id, PASS))), TimerKind.ENTER, 15.0),
    "refer": (lambda lane: (to_decide(lane), lane.send(ev.DecisionMade(lane.txn_id, REFER))), TimerKind.REFER, 30.0),
}


@pytest.mark.parametrize("wait", sorted(WAITS))
def test_the_screen_counts_down_the_running_wait(wait):
    reach, _, length = WAITS[wait]
    lane = Lane()
    reach(lane)
    assert shown(lane.last)[-1].seconds_left == length
    lane.send(ev.AssistanceRequested(), seconds=4)     # any later showing of the screen counts on
    assert shown(lane.last)[-1].seconds_left == length - 4


@pytest.mark.parametrize("state_setup", ["idle", "chip", "decide"])
def test_machine_waits_show_no_countdown(state_setup):
    lane = Lane()
    if state_setup == "chip":
        lane.send(ev.DocumentPresented(mrz()))
    elif state_setup == "decide":
        to_decide(lane)
    assert all(view.seconds_left is None for view in shown(lane.last))


@pytest.mark.parametrize("wait", ["document", "enter", "refer"])
def test_more_time_extends_the_wait_twice_then_no_more(wait):
    reach, kind, length = WAITS[wait]
    lane = Lane()
    reach(lane)
    first = lane.token(kind)
    lane.send(ev.MoreTimeRequested(), seconds=2)
    assert shown(lane.last)[-1].seconds_left == length - 2 + length and lane.token(kind) != first
    lane.send(ev.MoreTimeRequested(), seconds=1)
    second = lane.token(kind)
    lane.send(ev.MoreTimeRequested(), seconds=1)
    assert lane.token(kind) == second                       # the limit (2) is reached
    assert shown(lane.last)[-1].seconds_left == pytest.approx(3 * length - 4)
    lane.send(ev.Timeout(kind, first))
    assert lane.state is not State.IDLE or (wait == "refer" and lane.state is State.REFER)


def test_more_time_does_nothing_where_nothing_waits_for_the_traveller():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.send(ev.MoreTimeRequested()) == ()


def test_the_next_traveller_gets_their_own_extensions():
    reach, kind, _ = WAITS["refer"]
    lane = Lane()
    reach(lane)
    for _ in range(3):
        lane.send(ev.MoreTimeRequested())
    lane.send(ev.DocumentRemoved())
    assert lane.state is State.IDLE
    reach(lane)
    token = lane.token(kind)
    lane.send(ev.MoreTimeRequested())
    assert lane.token(kind) != token


def test_assistance_alarms_the_officer_once_and_flags_the_screen_until_answered():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.AssistanceRequested())
    assert shown(lane.last)[-1].assistance_called and shown(lane.last)[-1].screen.value == "look_at_camera"
    lane.send(ev.FaceFeedback(lane.txn_id, "come_closer"))
    assert shown(lane.last)[-1].assistance_called         # later screens keep the flag
    lane.send(ev.AssistanceRequested())
    assert [a.kind for a in lane.of(RaiseAlarm)].count(AlarmKind.ASSISTANCE_REQUESTED) == 1
    assert any(a.kind is ExceptionKind.ASSISTANCE_REQUESTED for a in lane.of(RecordException))
    lane.send(ev.AssistanceAnswered("officer-7"))
    assert not shown(lane.last)[-1].assistance_called and lane.state is State.FACE


def test_the_next_traveller_does_not_inherit_the_assistance_flag():
    lane = Lane()
    to_decide(lane)
    lane.send(ev.AssistanceRequested())
    lane.send(ev.DecisionMade(lane.txn_id, REFER))
    assert shown(lane.last)[-1].assistance_called                 # the officer is still coming
    lane.send(ev.DocumentRemoved())
    assert lane.state is State.IDLE and not shown(lane.last)[-1].assistance_called


@pytest.mark.parametrize("kind, expected", [
    (InputKind.MORE_TIME, ev.MoreTimeRequested()),
    (InputKind.ASSISTANCE, ev.AssistanceRequested()),
    (InputKind.LANGUAGE, None),
])
def test_kiosk_inputs_become_lane_events(kind, expected):
    language = "fr" if kind is InputKind.LANGUAGE else None
    assert traveller_event(TravellerInput(kind, language)) == expected


def test_no_door_opens_in_registration_only_mode_even_if_the_decider_says_pass():
    lane, reason = Lane(mode=LaneMode.REGISTRATION_ONLY), ReasonCode.LANE_MANUAL_MODE
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    assert lane.state is State.REFER and OpenDoor(Door.ENTRY) not in lane.actions
    record = [a for a in lane.actions if type(a).__name__ == "RecordCrossing"][-1].record
    assert reason in record.decision.reasons and record.outcome == "referred"


@pytest.mark.parametrize("verdict, officer, outcome, reason", [
    (ev.OfficerVerdict.ACCEPT, "officer-7", "passed_to_doors", None),
    (ev.OfficerVerdict.ACCEPT, "", "referred", ReasonCode.OFFICER_UNIDENTIFIED),
    (ev.OfficerVerdict.REFER, "officer-7", "referred", ReasonCode.OFFICER_REFUSED),
    (ev.OfficerVerdict.REJECT, "officer-7", "rejected", ReasonCode.OFFICER_REJECTED),
    (ev.OfficerVerdict.REJECT, "", "referred", ReasonCode.OFFICER_UNIDENTIFIED),
])
def test_every_officer_answer_is_audited_and_an_anonymous_approval_opens_nothing(verdict, officer, outcome, reason):
    lane = Lane(mode=LaneMode.ASSISTED)
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    lane.send(ev.OfficerDecision(lane.txn_id, verdict, officer))
    audit = [a for a in lane.of(RecordException) if a.kind is ExceptionKind.OFFICER_DECISION]
    assert len(audit) == 1 and audit[0].detail.startswith(f"{verdict.value} by {officer or 'unidentified'}")
    if outcome == "passed_to_doors":
        assert lane.state is State.PASSAGE
        return
    record = [a for a in lane.actions if type(a).__name__ == "RecordCrossing"][-1].record
    assert lane.state is State.REFER and reason in record.decision.reasons and record.outcome == outcome
    assert record.officer_id == (officer or None) and record.officer_decision == verdict.value
