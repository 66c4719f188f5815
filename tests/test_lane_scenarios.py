"""Whole transactions through the pure lane: passage, tailgating, forced and held doors, emergency,
modes, alert-list neutrality, abandonment, retries, late answers, the crossing record."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace

from drivers.gate.layout import Door, LayoutKind
from firmware_app.face.capture import CaptureOutcome
from firmware_app.kiosk.view import Screen
from firmware_app.lane import events as ev
from firmware_app.lane.actions import (
    AlarmKind,
    CancelStages,
    CloseDoor,
    OpenDoor,
    RaiseAlarm,
    RecordCrossing,
    ReleaseDoors,
    RequestDecision,
    SecureDoors,
    ShowScreen,
    StartFaceCapture,
)
from firmware_app.lane.machine import initial
from firmware_app.lane.state import Fault, LaneSettings, Phase, State, TimerKind
from firmware_app.policy import Evidence, InMemoryAlertLists, LaneMode, Outcome, PolicyContext, ReasonCode, decide
from firmware_app.policy.alerts import DocumentEntry
from tests.lane_helpers import NOW, PASS, REFER, TODAY, Lane, alarms, good_chip, good_face, mrz, to_decide, to_passage


def record(lane: Lane):
    return lane.of(RecordCrossing)[-1].record


def screens(actions) -> list[Screen]:
    return [a.view.screen for a in actions if isinstance(a, ShowScreen)]


def test_mantrap_passage_opens_exit_only_after_entry_shut_behind_one_person():
    lane = Lane()
    to_passage(lane)
    assert OpenDoor(Door.ENTRY) in lane.actions and OpenDoor(Door.EXIT) not in lane.actions
    assert CloseDoor(Door.ENTRY) in lane.send(ev.PresenceChanged(1))
    assert OpenDoor(Door.EXIT) in lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.DoorOpened(Door.EXIT))
    assert CloseDoor(Door.EXIT) in lane.send(ev.PresenceChanged(0))
    lane.send(ev.DoorClosed(Door.EXIT))
    assert lane.state is State.IDLE
    data = record(lane).to_dict()
    assert data["outcome"] == "passed" and data["passage"]["single_passage_confirmed"] is True
    assert set(data["timings_ms"]) >= {"chip", "face", "decision", "passage", "total"}
    json.dumps(data)


def test_barrier_stays_open_until_the_traveller_is_through():
    lane = Lane(layout=LayoutKind.BARRIER)
    to_passage(lane)
    lane.send(ev.PresenceChanged(1))
    assert lane.state is State.PASSAGE and lane.data.commanded_open == {Door.ENTRY}
    assert CloseDoor(Door.ENTRY) in lane.send(ev.PresenceChanged(0))
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert lane.state is State.IDLE and record(lane).outcome == "passed"


def test_mantrap_tailgating_keeps_exit_shut_and_the_way_back_open():
    lane = Lane()
    to_passage(lane)
    lane.send(ev.PresenceChanged(1))
    lane.send(ev.PresenceChanged(2))        # a second person slipped in while the entry closed
    assert AlarmKind.TAILGATING in alarms(lane)
    assert lane.data.commanded_open == {Door.ENTRY} and lane.data.txn.phase is Phase.TAILGATE_HOLD
    lane.send(ev.PresenceChanged(1))
    assert OpenDoor(Door.EXIT) not in lane.actions     # no resuming after tailgating
    lane.send(ev.PresenceChanged(0))
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert lane.state is State.IDLE and record(lane).outcome == "tailgating"
    assert record(lane).passage.single_passage_confirmed is False


def test_barrier_tailgating_closes_the_barrier():
    lane = Lane(layout=LayoutKind.BARRIER)
    to_passage(lane)
    assert CloseDoor(Door.ENTRY) in lane.send(ev.PresenceChanged(2))
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert record(lane).outcome == "tailgating" and AlarmKind.TAILGATING in alarms(lane)


def test_forced_door_alarms_and_stops_the_lane_until_shut():
    lane = Lane()
    lane.send(ev.DoorOpened(Door.EXIT))
    assert AlarmKind.DOOR_FORCED in alarms(lane) and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.data.txn is None
    lane.send(ev.DoorClosed(Door.EXIT))
    assert lane.state is State.IDLE and Fault.DOOR_FORCED not in lane.data.faults


def test_forced_door_during_a_transaction_voids_it():
    lane = Lane()
    to_decide(lane)
    lane.send(ev.DoorOpened(Door.ENTRY))
    assert record(lane).outcome == "voided" and SecureDoors() in lane.last
    assert CancelStages(record(lane).transaction_id) in lane.last


def test_door_held_open_raises_an_alarm_and_waits():
    lane = Lane()
    to_passage(lane)
    lane.send(ev.PresenceChanged(1))
    lane.fire(TimerKind.HELD_OPEN_ENTRY)
    assert AlarmKind.DOOR_HELD_OPEN in alarms(lane) and lane.state is State.CLOSING
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert lane.state is State.IDLE and lane.data.leaving.phase is Phase.EXITING     # walking out behind the lane


def test_nobody_walks_in_the_entry_closes_and_the_record_says_so():
    lane = Lane()
    to_passage(lane)
    assert CloseDoor(Door.ENTRY) in lane.fire(TimerKind.ENTER)
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert record(lane).outcome == "not_entered" and lane.state is State.IDLE


def test_emergency_mid_passage_releases_all_then_secures_and_waits_for_shut_doors():
    lane = Lane()
    to_passage(lane)
    lane.send(ev.EmergencyOn())
    assert ReleaseDoors() in lane.last and record(lane).outcome == "voided"
    lane.send(ev.DoorOpened(Door.EXIT))
    lane.send(ev.EmergencyOff())
    assert SecureDoors() in lane.last and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.DoorClosed(Door.EXIT))
    assert lane.state is State.IDLE


def test_alert_hit_alarms_the_officer_but_the_traveller_sees_a_plain_referral():
    alerts = InMemoryAlertLists([DocumentEntry("s1", "UTO", "L898902C3")])
    hit = decide(Evidence(mrz(), good_chip(), good_face()), PolicyContext(today=TODAY), alerts)
    with_hit, plain = Lane(), Lane()
    for lane, decision in ((with_hit, hit), (plain, REFER)):
        to_decide(lane)
        lane.send(ev.DecisionMade(lane.txn_id, decision))
    assert AlarmKind.ALERT_LIST_HIT in alarms(with_hit) and AlarmKind.ALERT_LIST_HIT not in alarms(plain)
    views = [[a.view for a in lane.last if isinstance(a, ShowScreen)] for lane in (with_hit, plain)]
    assert views[0] == views[1] and views[0][0].screen is Screen.SEE_OFFICER
    assert record(with_hit).to_dict()["alert_hit"] is True


def test_assisted_mode_waits_for_the_officer_who_cannot_upgrade_a_referral():
    lane = Lane(mode=LaneMode.ASSISTED)
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, REFER))
    assert lane.state is State.OFFICER_REVIEW
    lane.send(ev.OfficerDecision(lane.txn_id, ev.OfficerVerdict.ACCEPT, "officer-7"))
    assert lane.state is State.REFER and record(lane).officer_id == "officer-7"
    lane = Lane(mode=LaneMode.ASSISTED)
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    lane.send(ev.OfficerDecision(lane.txn_id, ev.OfficerVerdict.REFER, "officer-7"))
    assert ReasonCode.OFFICER_REFUSED in record(lane).decision.reasons


def test_registration_only_mode_verifies_records_and_refers_everyone():
    lane = Lane(mode=LaneMode.REGISTRATION_ONLY)
    to_decide(lane)
    request = lane.of(RequestDecision)[-1]
    assert request.mode is LaneMode.REGISTRATION_ONLY
    decision = decide(request.evidence, PolicyContext(today=TODAY, mode=request.mode), InMemoryAlertLists())
    lane.send(ev.DecisionMade(lane.txn_id, decision))
    data = record(lane).to_dict()
    assert lane.state is State.REFER and data["outcome"] == "referred"
    assert data["face"]["outcome"] == "match" and data["chip"]["dg1_check"] == "MATCH"


def test_mode_change_mid_transaction_applies_to_the_next_one():
    lane = Lane()
    to_decide(lane)
    lane.send(ev.ModeChanged(LaneMode.CLOSED))
    lane.send(ev.DecisionMade(lane.txn_id, REFER))
    lane.send(ev.DocumentRemoved())
    assert lane.state is State.CLOSED and record(lane).mode == "normal"


def test_a_lane_closed_while_a_pass_is_decided_opens_no_door_and_refers():
    """Closing a lane (the BMIS, an officer) stops the next passage at once, not after it."""
    lane = Lane()
    to_decide(lane)
    lane.send(ev.ModeChanged(LaneMode.CLOSED))
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    assert lane.state is State.REFER and not lane.data.commanded_open
    assert ReasonCode.LANE_CLOSED in record(lane).decision.reasons and record(lane).mode == "normal"


def test_removing_the_document_abandons_and_late_answers_are_ignored():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    old = lane.txn_id
    lane.send(ev.DocumentRemoved())
    assert record(lane).outcome == "abandoned" and CancelStages(old) in lane.last
    lane.send(ev.DocumentPresented(mrz()))
    before = lane.data
    assert lane.send(ev.ChipResult(old, good_chip())) == () and lane.data == before


def test_face_capture_gets_another_round_then_decides():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    unusable = replace(good_face(), outcome=CaptureOutcome.NO_USABLE_FACE)
    assert StartFaceCapture(lane.txn_id, 2) in lane.send(ev.FaceResult(lane.txn_id, unusable))
    lane.send(ev.FaceResult(lane.txn_id, unusable))
    assert lane.state is State.DECIDE


def test_unreadable_document_gets_retries_then_the_policy_refers():
    lane = Lane()
    for _ in range(2):
        lane.send(ev.DocumentUnreadable())
        assert lane.state is State.DOCUMENT
    lane.send(ev.DocumentUnreadable())
    assert lane.state is State.DECIDE and lane.of(RequestDecision)[-1].evidence.mrz is None


def test_kiosk_language_follows_the_document_nationality():
    lane = Lane()
    actions = lane.send(ev.DocumentPresented(mrz(nationality="FRA")))
    assert [a.view.language_hint for a in actions if isinstance(a, ShowScreen)] == ["FRA"]


def test_camera_fault_during_passage_lets_the_traveller_finish_then_stops():
    lane = Lane()
    to_passage(lane)
    lane.send(ev.DeviceFault(Fault.CAMERA, "stalled"))
    assert lane.state is State.PASSAGE
    lane.send(ev.PresenceChanged(1))
    lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.DoorOpened(Door.EXIT))
    lane.send(ev.PresenceChanged(0))
    lane.send(ev.DoorClosed(Door.EXIT))
    assert record(lane).outcome == "passed" and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DeviceRestored(Fault.CAMERA))
    assert lane.state is State.IDLE


def test_start_with_a_door_open_secures_first_and_waits():
    data, actions = initial(LaneSettings(), sensed_open=frozenset({Door.EXIT}), now=NOW)
    assert actions[0] == SecureDoors() and data.state is State.OUT_OF_SERVICE
    assert Door.EXIT in data.closing


def test_start_during_emergency_releases_the_doors():
    data, actions = initial(LaneSettings(), emergency=True, now=NOW)
    assert data.state is State.EMERGENCY and ReleaseDoors() in actions


def test_record_repr_hides_personal_data():
    lane = Lane()
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, REFER))
    text = repr(record(lane)) + repr(record(lane).document)
    assert "ERIKSSON" not in text and "L898902C3" not in text
    assert record(lane).decision.outcome is Outcome.REFER


def test_more_time_restarts_the_wait_and_the_old_timer_goes_stale():
    lane = Lane()
    lane.send(ev.DocumentUnreadable())
    old = lane.token(TimerKind.DOCUMENT)
    lane.send(ev.MoreTimeRequested())
    assert lane.token(TimerKind.DOCUMENT) != old
    lane.send(ev.Timeout(TimerKind.DOCUMENT, old))
    assert lane.state is State.DOCUMENT
    lane.fire(TimerKind.DOCUMENT)
    assert lane.state is State.DECIDE


def test_assistance_button_alarms_the_officer_without_changing_the_flow():
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.AssistanceRequested())
    assert lane.of(RaiseAlarm)[-1].kind is AlarmKind.ASSISTANCE_REQUESTED and lane.state is State.CHIP


def test_a_pass_is_not_acted_on_while_somebody_is_already_inside():
    lane = Lane()
    to_decide(lane)
    lane.send(ev.PresenceChanged(1))
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    assert lane.state is State.REFER and OpenDoor(Door.EXIT) not in lane.actions
    assert lane.data.retreat and lane.data.commanded_open == {Door.ENTRY}      # released only to step back
    assert ReasonCode.MORE_THAN_ONE_PERSON in record(lane).decision.reasons


def test_presentation_attack_refers_with_its_own_reason_and_alarm_and_is_recorded():
    from firmware_app.bmis.contract import Identity, MessageKind, build, encode, validate_message
    from firmware_app.face.pad import PadStatus
    attack = replace(good_face(), pad=PadStatus.ATTACK_SUSPECTED, pad_score=0.04)
    suspected = decide(Evidence(mrz(), good_chip(), attack), PolicyContext(today=TODAY), InMemoryAlertLists())
    with_attack, plain = Lane(), Lane()
    for lane, face, decision in ((with_attack, attack, suspected), (plain, good_face(), REFER)):
        to_decide(lane, face)
        lane.send(ev.DecisionMade(lane.txn_id, decision))
    assert suspected.outcome is Outcome.REFER and ReasonCode.PRESENTATION_ATTACK in suspected.reasons
    assert AlarmKind.PRESENTATION_ATTACK in alarms(with_attack) and AlarmKind.PRESENTATION_ATTACK not in alarms(plain)
    assert screens(with_attack.last) == screens(plain.last)   # the traveller is only referred
    data = record(with_attack).to_dict()
    assert data["face"]["pad"] == "attack_suspected" and data["face"]["pad_score"] == 0.04
    assert data["decision"]["reasons"] == ["presentation_attack_suspected"]
    message = build(Identity("gate-7", "post-1"), MessageKind.CROSSING, data, msg_id=uuid.UUID(int=1),
                    seq=1, boot=1, now=NOW)
    validate_message(MessageKind.CROSSING, json.loads(encode(message)))   # the 1.1 schema
