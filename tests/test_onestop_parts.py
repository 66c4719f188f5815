"""One-stop parts in isolation (issue 17): the sovereign outbox's routing, the per-authority record,
the mode arbiter and what one authority's commands may do to the shared lane."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firmware_app.lane.actions import AlarmKind, ExceptionKind
from firmware_app.lane.record import CrossingRecord, DocumentFields, PassageFields
from firmware_app.onestop.control import AuthorityLaneControl, ModeArbiter, door_controls
from firmware_app.onestop.decider import JointDecisions
from firmware_app.onestop.errors import CommandNotPermitted
from firmware_app.onestop.outbox import SovereignOutbox
from firmware_app.onestop.records import Agreement, authority_record
from firmware_app.policy import Decision, Finding, LaneMode, Outcome, ReasonCode
from firmware_app.policy.alerts import AlertHit, AlertListKind
from firmware_app.policy.onestop import JointDecision, Role
from tests.lane_helpers import mrz

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
HIT = AlertHit(AlertListKind.DOCUMENT, "arc-watch", "3", "arc-7", "wanted")
AGREEMENT = Agreement(frozenset({"document_number"}), {Role.EXIT: "UTO", Role.ENTRY: "ARC"})


class Box:
    def __init__(self, refuse: bool = False):
        self.records, self.alarms, self.exceptions, self.refuse = [], [], [], refuse

    def crossing(self, record):
        if self.refuse:
            raise OSError("disk full")
        self.records.append(record)

    def has_crossing(self, txn_id):
        return any(r.transaction_id == txn_id for r in self.records)

    def exception(self, kind, txn_id, detail):
        self.exceptions.append((kind, txn_id))

    def alarm(self, kind, txn_id, detail):
        self.alarms.append((kind, txn_id))


def record(decision: Decision | None, txn_id: str = "t1") -> CrossingRecord:
    return CrossingRecord(txn_id, "lane-1", "entry", "normal", "referred", NOW, NOW,
                          DocumentFields.from_mrz(mrz()), None, None, decision, None, PassageFields(False, None, 0))


def joint_with_entry_hit() -> JointDecision:
    return JointDecision(Decision(Outcome.PASS),
                         Decision(Outcome.REFER, (Finding(ReasonCode.ALERT_LIST_HIT, Outcome.REFER),), (HIT,)))


@pytest.fixture
def routed():
    memory, boxes = JointDecisions(), {Role.EXIT: Box(), Role.ENTRY: Box()}
    return memory, boxes, SovereignOutbox(boxes, memory, AGREEMENT)


def test_each_authority_stores_its_own_record_once(routed):
    memory, boxes, outbox = routed
    joint = joint_with_entry_hit()
    memory.remember("t1", joint)
    outbox.crossing(record(joint.lane))
    outbox.crossing(record(joint.lane))      # a retry: nobody stores it twice
    exit_data, entry_data = (boxes[r].records[0].to_dict() for r in (Role.EXIT, Role.ENTRY))
    assert len(boxes[Role.EXIT].records) == len(boxes[Role.ENTRY].records) == 1
    assert exit_data["decision"]["alert_hits"] == [] and exit_data["alert_hit"] is False
    assert entry_data["decision"]["alert_hits"][0]["entry_id"] == "arc-7"
    assert exit_data["document"]["document_number"] == "L898902C3"
    assert exit_data["document"]["primary_identifier"] == "" and exit_data["onestop"]["role"] == "exit"
    assert "primary_identifier" in exit_data["onestop"]["withheld_fields"]
    assert outbox.has_crossing("t1") and memory.get("t1") is None


def test_a_refusing_outbox_raises_and_the_retry_stores_only_what_is_missing():
    memory, boxes = JointDecisions(), {Role.EXIT: Box(), Role.ENTRY: Box(refuse=True)}
    outbox = SovereignOutbox(boxes, memory, AGREEMENT)
    joint = joint_with_entry_hit()
    memory.remember("t1", joint)
    with pytest.raises(OSError):
        outbox.crossing(record(joint.lane))
    assert not outbox.has_crossing("t1")
    boxes[Role.ENTRY].refuse = False
    outbox.crossing(record(joint.lane))
    assert len(boxes[Role.EXIT].records) == 1
    assert boxes[Role.ENTRY].records[0].to_dict()["decision"]["alert_hits"][0]["entry_id"] == "arc-7"


def test_alert_alarms_go_to_the_owner_only_others_to_both(routed):
    memory, boxes, outbox = routed
    memory.remember("t1", joint_with_entry_hit())
    outbox.alarm(AlarmKind.ALERT_LIST_HIT, "t1", "")
    outbox.alarm(AlarmKind.ALERT_LIST_HIT, "unknown", "")      # not attributable: to neither
    outbox.alarm(AlarmKind.DOOR_FORCED, None, "")
    outbox.exception(ExceptionKind.STAGE_TIMEOUT, "t1", "chip")
    assert boxes[Role.EXIT].alarms == [(AlarmKind.DOOR_FORCED, None)]
    assert boxes[Role.ENTRY].alarms == [(AlarmKind.ALERT_LIST_HIT, "t1"), (AlarmKind.DOOR_FORCED, None)]
    assert len(boxes[Role.EXIT].exceptions) == len(boxes[Role.ENTRY].exceptions) == 1


def test_a_record_without_a_known_joint_decision_carries_no_alert_data():
    stray = Decision(Outcome.REFER, (Finding(ReasonCode.ALERT_LIST_HIT, Outcome.REFER),), (HIT,))
    data = authority_record(record(stray), None, Role.EXIT, AGREEMENT).to_dict()
    assert data["decision"]["alert_hits"] == [] and data["decision"]["reasons"] == []


def test_joint_decisions_are_bounded():
    memory = JointDecisions(limit=2)
    for n in range(3):
        memory.remember(f"t{n}", joint_with_entry_hit())
    assert memory.get("t0") is None and memory.get("t2") is not None


class Lane:
    def __init__(self):
        self.modes, self.overrides = [], []

    def set_mode(self, mode, operator_id):
        self.modes.append(mode)

    def override_door(self, action, door, operator_id, command_id=None):
        self.overrides.append(action)

    def request_status(self):
        return {"state": "idle"}


def test_either_closes_and_only_the_closer_reopens():
    lane, arbiter = Lane(), ModeArbiter(LaneMode.NORMAL)
    exit_, entry = (AuthorityLaneControl(role, arbiter, lane) for role in (Role.EXIT, Role.ENTRY))
    entry.set_mode(LaneMode.CLOSED, "arc-1")
    exit_.set_mode(LaneMode.NORMAL, "uto-1")          # the exit side cannot reopen what the entry side closed
    assert lane.modes == [LaneMode.CLOSED, LaneMode.CLOSED]
    entry.set_mode(LaneMode.ASSISTED, "arc-1")
    assert lane.modes[-1] is LaneMode.ASSISTED
    assert exit_.request_status() == {"state": "idle", "authority_mode": "normal"}


def test_either_authority_may_secure_the_doors_and_each_opens_only_the_door_under_its_control():
    lane = Lane()
    exit_, entry = (AuthorityLaneControl(role, ModeArbiter(LaneMode.NORMAL), lane) for role in (Role.EXIT, Role.ENTRY))
    exit_.override_door("close", "all", "uto-1")
    entry.override_door("close", "exit", "arc-1")
    exit_.override_door("open", "entry", "uto-1")
    entry.override_door("open", "exit", "arc-1")
    for control, door in ((exit_, "exit"), (entry, "entry"), (exit_, "all"), (entry, "all")):
        with pytest.raises(CommandNotPermitted):
            control.override_door("open", door, "someone")
    assert lane.overrides == ["close", "close", "open", "open"]


def test_no_single_authority_opens_a_barrier_lane():
    lane = Lane()
    for role in Role:
        control = AuthorityLaneControl(role, ModeArbiter(LaneMode.NORMAL), lane, door_controls("barrier"))
        control.override_door("close", "entry", "x")
        with pytest.raises(CommandNotPermitted, match="both authorities"):
            control.override_door("open", "entry", "x")
    assert lane.overrides == ["close", "close"]
