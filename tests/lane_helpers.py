"""Builders shared by the policy and lane tests: a good traveller's evidence, and variations."""
from __future__ import annotations

from datetime import UTC, date, datetime

from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.lds import Dg1Check
from firmware_app.emrtd.pa import PaResult
from firmware_app.face.capture import CaptureOutcome
from firmware_app.face.pad import PadStatus
from firmware_app.mrz import parse
from firmware_app.policy import ChipEvidence, ChipStatus, FaceEvidence
from tests.mrz_helpers import specimen

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def mrz(**overrides):
    return parse(specimen("TD3", **overrides), today=TODAY)


def good_chip() -> ChipEvidence:
    return ChipEvidence(ChipStatus.READ, "PACE", "PACE_OFFERED",
                        PaResult(True, True, True, checked_groups=(1, 2)), Dg1Check.MATCH,
                        ChipCheckResult.ok(ChipCheck.ACTIVE_AUTHENTICATION),
                        ChipCheckResult.not_performed(ChipCheck.CHIP_AUTHENTICATION, ChipCheckReason.NOT_OFFERED))


def good_face() -> FaceEvidence:
    return FaceEvidence(CaptureOutcome.MATCH, 0.71, 0.36, "sface-2021dec", PadStatus.NOT_PERFORMED, (), 1)


# --- driving the pure lane machine ----------------------------------------------------------
from datetime import timedelta  # noqa: E402

from drivers.gate.layout import Door, LayoutKind  # noqa: E402
from firmware_app.lane import events as ev  # noqa: E402
from firmware_app.lane.actions import AlarmKind, RaiseAlarm  # noqa: E402
from firmware_app.lane.machine import initial, step  # noqa: E402
from firmware_app.lane.state import Fault, LaneSettings, State, TimerKind  # noqa: E402
from firmware_app.policy import Decision, Evidence, InMemoryAlertLists, LaneMode, PolicyContext, ReasonCode, decide  # noqa: E402

PASS = decide(Evidence(mrz(), good_chip(), good_face()), PolicyContext(today=TODAY), InMemoryAlertLists())
REFER = Decision.refer(ReasonCode.FACE_NOT_MATCHED)


class Lane:
    """A pure lane plus a fake clock; keeps every action for the assertions."""

    def __init__(self, layout: LayoutKind = LayoutKind.MANTRAP, mode: LaneMode | None = None):
        self.now = NOW
        self.data, actions = initial(LaneSettings(layout=layout), mode=mode, now=self.now)
        self.actions = list(actions)
        self.last: tuple = actions

    def send(self, event, seconds: float = 1.0):
        self.now += timedelta(seconds=seconds)
        self.data, self.last = step(self.data, event, self.now)
        self.actions.extend(self.last)
        return self.last

    @property
    def state(self) -> State:
        return self.data.state

    @property
    def txn_id(self) -> str:
        return self.data.txn.txn_id if self.data.txn else "none"

    def token(self, kind: TimerKind) -> int:
        token = self.data.timer_token(kind)
        return 10**6 if token is None else token

    def fire(self, kind: TimerKind):
        return self.send(ev.Timeout(kind, self.token(kind)))

    def of(self, cls) -> list:
        return [a for a in self.actions if isinstance(a, cls)]


def to_decide(lane: Lane, face=None) -> None:
    """A good document, chip and face (or the given face evidence): the lane awaits the decision."""
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.FaceResult(lane.txn_id, face or good_face()))


def to_pass(lane: Lane) -> None:
    """Decided PASS: the entry is commanded open."""
    to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, PASS))


def to_passage(lane: Lane) -> None:
    """Decided PASS and the entry seen open: the traveller may step in."""
    to_pass(lane)
    lane.send(ev.DoorOpened(Door.ENTRY))


def alarms(lane: Lane) -> list[AlarmKind]:
    return [a.kind for a in lane.of(RaiseAlarm)]


def _chip_bad():
    from firmware_app.policy import ChipEvidence, ChipStatus
    return ChipEvidence.failed(ChipStatus.UNREADABLE, "no answer")


def _face(outcome):
    from dataclasses import replace
    return replace(good_face(), outcome=outcome)


def event_catalogue(lane: Lane) -> dict:
    """Every kind of event, addressed to the lane's current transaction and timers."""
    from firmware_app.face.capture import CaptureOutcome
    t = lane.txn_id
    return {
        "doc_valid": ev.DocumentPresented(mrz()), "doc_invalid": ev.DocumentPresented(_INVALID),
        "doc_unreadable": ev.DocumentUnreadable("no frame"), "doc_removed": ev.DocumentRemoved(),
        "chip_ok": ev.ChipResult(t, good_chip()), "chip_bad": ev.ChipResult(t, _chip_bad()),
        "face_ok": ev.FaceResult(t, good_face()), "face_nomatch": ev.FaceResult(t, _face(CaptureOutcome.NO_MATCH)),
        "face_nousable": ev.FaceResult(t, _face(CaptureOutcome.NO_USABLE_FACE)),
        "face_feedback": ev.FaceFeedback(t, "come_closer"),
        "chip_failed": ev.StageFailed(t, ev.Stage.CHIP, "DriverIOError"),
        "face_failed": ev.StageFailed(t, ev.Stage.FACE, "CameraStalled"),
        "decision_failed": ev.StageFailed(t, ev.Stage.DECISION, "AlertListUnavailable"),
        "decision_pass": ev.DecisionMade(t, PASS), "decision_refer": ev.DecisionMade(t, REFER),
        "officer_yes": ev.OfficerDecision(t, ev.OfficerVerdict.ACCEPT, "officer-7"),
        "officer_no": ev.OfficerDecision(t, ev.OfficerVerdict.REFER, "officer-7"),
        "officer_reject": ev.OfficerDecision(t, ev.OfficerVerdict.REJECT, "officer-7"),
        "stale_officer": ev.OfficerDecision("old-txn", ev.OfficerVerdict.ACCEPT, "officer-7"),
        "timeout_state": ev.Timeout(_state_timer(lane), lane.token(_state_timer(lane))),
        "timeout_stale": ev.Timeout(TimerKind.CHIP, 10**6),
        "stale_chip": ev.ChipResult("old-txn", good_chip()), "stale_decision": ev.DecisionMade("old-txn", PASS),
        "entry_opened": ev.DoorOpened(Door.ENTRY), "entry_closed": ev.DoorClosed(Door.ENTRY),
        "exit_opened": ev.DoorOpened(Door.EXIT), "exit_closed": ev.DoorClosed(Door.EXIT),
        "presence_0": ev.PresenceChanged(0), "presence_1": ev.PresenceChanged(1), "presence_2": ev.PresenceChanged(2),
        "emergency_on": ev.EmergencyOn(), "emergency_off": ev.EmergencyOff(),
        "tamper_on": ev.TamperOn(), "tamper_off": ev.TamperOff(),
        "fault_camera": ev.DeviceFault(Fault.CAMERA, "stalled"), "fault_gate": ev.DeviceFault(Fault.GATE_DRIVER),
        "restored_gate": ev.DeviceRestored(Fault.GATE_DRIVER),
        "mode_closed": ev.ModeChanged(LaneMode.CLOSED), "mode_normal": ev.ModeChanged(LaneMode.NORMAL),
        "mode_assisted": ev.ModeChanged(LaneMode.ASSISTED), "assistance": ev.AssistanceRequested(),
        "more_time": ev.MoreTimeRequested(), "assistance_answered": ev.AssistanceAnswered("officer-7"),
        "fault_journal": ev.DeviceFault(Fault.JOURNAL, "disk"), "restored_camera": ev.DeviceRestored(Fault.CAMERA),
        "timeout_retreat": ev.Timeout(TimerKind.RETREAT, lane.token(TimerKind.RETREAT)),
        "override_open_entry": ev.OfficerOverride(Door.ENTRY, ev.OverrideAction.OPEN, "officer-9", "cmd-1"),
        "override_open_all": ev.OfficerOverride(None, ev.OverrideAction.OPEN, "officer-9", "cmd-2"),
        "override_close_all": ev.OfficerOverride(None, ev.OverrideAction.CLOSE, "officer-9", "cmd-3"),
        "timeout_override": ev.Timeout(TimerKind.OVERRIDE, lane.token(TimerKind.OVERRIDE)),
    }


# invalid and beyond repair (no chip key candidates): a composite slip read with repair off
_INVALID = parse(specimen("TD3")[0:1] + (specimen("TD3")[1][:-1] + "9",), today=TODAY, repair=False)
_STATE_TIMER = {State.DOCUMENT: TimerKind.DOCUMENT, State.CHIP: TimerKind.CHIP, State.FACE: TimerKind.FACE,
                State.DECIDE: TimerKind.DECISION, State.OFFICER_REVIEW: TimerKind.OFFICER,
                State.REFER: TimerKind.REFER}


def _state_timer(lane: Lane) -> TimerKind:
    if lane.state in _STATE_TIMER:
        return _STATE_TIMER[lane.state]
    for kind in (TimerKind.ENTER, TimerKind.EXIT, TimerKind.TAILGATE, TimerKind.HELD_OPEN_ENTRY):
        if lane.data.timer_token(kind) is not None:
            return kind
    return TimerKind.CHIP


def door_invariant_holds(data) -> bool:
    """A door is open only in a PASS-decided passage, an emergency, an officer override holding it
    (never during a traveller's transaction), for the exit, a PASS-decided traveller walking out
    behind the lane (never with the entry open), or, for the entry, a retreat (somebody inside a
    mantrap let back out to the staffed side after a fault or outside a passage)."""
    if data.emergency:
        return True
    if data.override is not None:
        return data.txn is None and data.commanded_open <= data.override.doors
    txn = data.txn
    passing = (data.state in (State.PASSAGE, State.CLOSING) and txn is not None and txn.decision is not None
               and txn.decision.passed and txn.phase is not None)
    walking_out = data.leaving is not None and data.leaving.decision is not None and data.leaving.decision.passed
    if data.leaving is not None and (Door.ENTRY in data.commanded_open or not walking_out):
        return False
    if Door.EXIT in data.commanded_open and not (passing or walking_out):
        return False
    retreat = data.retreat and data.settings.layout is LayoutKind.MANTRAP
    return Door.ENTRY not in data.commanded_open or passing or retreat
