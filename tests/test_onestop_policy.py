"""One-stop border post decisions (issue 17): each authority decides on the same evidence with its
own rules and lists; the lane passes only when both pass; each record gets only its own decision."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.mrz import parse
from firmware_app.policy import (
    ChipEvidence,
    ChipStatus,
    Decision,
    Evidence,
    Finding,
    InMemoryAlertLists,
    Outcome,
    PolicyContext,
    ReasonCode,
)
from firmware_app.policy.alerts import DocumentEntry, PersonEntry
from firmware_app.policy.onestop import (
    AuthorityRules,
    JointDecision,
    Role,
    decide_for,
    document_type_accepted,
    own_decision,
)
from tests.lane_helpers import TODAY, good_chip, good_face, mrz
from tests.mrz_helpers import specimen

EXIT = AuthorityRules(Role.EXIT, "UTO", frozenset({"P", "I"}), exit_ban_lists=frozenset({"exit-bans"}))
ENTRY = AuthorityRules(Role.ENTRY, "ARC", frozenset({"P"}), visa_required=frozenset({"XXA"}), minor_age=16)
NONE = InMemoryAlertLists()
CONTEXT = PolicyContext(today=TODAY)
BAN = InMemoryAlertLists(persons=[PersonEntry("ban-7", "ERIKSSON", "ANNA MARIA", date(1974, 8, 12), "court order")],
                         person_list_id="exit-bans")
WANTED = InMemoryAlertLists([DocumentEntry("arc-w-1", "UTO", "L898902C3", "wanted")], document_list_id="arc-watch")


def evidence(**mrz_fields) -> Evidence:
    return Evidence(mrz(**mrz_fields), good_chip(), good_face())


def both(ev=None, exit_alerts=NONE, entry_alerts=NONE, context=CONTEXT) -> JointDecision:
    ev = ev or evidence()
    return JointDecision(decide_for(EXIT, ev, context, exit_alerts), decide_for(ENTRY, ev, context, entry_alerts))


def test_a_traveller_both_authorities_accept_passes_the_lane():
    joint = both()
    assert joint.exit.passed and joint.entry.passed and joint.lane_decision().passed


def test_an_exit_ban_refers_at_exit_only_and_the_entry_side_passes():
    joint = both(exit_alerts=BAN)
    assert joint.exit.outcome is Outcome.REFER and joint.exit.reasons == (ReasonCode.EXIT_BAN,)
    assert joint.exit.alert_hits[0].entry_id == "ban-7"
    assert joint.entry.passed and joint.entry.alert_hits == ()
    assert joint.lane_decision().outcome is Outcome.REFER


def test_a_hit_in_another_exit_list_stays_an_alert_hit_beside_the_ban():
    lists = InMemoryAlertLists([DocumentEntry("s-1", "UTO", "L898902C3")], BAN._persons, person_list_id="exit-bans")
    assert set(decide_for(EXIT, evidence(), CONTEXT, lists).reasons) == {ReasonCode.ALERT_LIST_HIT, ReasonCode.EXIT_BAN}


def test_visa_required_refers_at_entry_only():
    joint = both(evidence(nationality="XXA"))
    assert joint.exit.passed
    assert joint.entry.reasons == (ReasonCode.VISA_REQUIRED,) and not joint.lane_decision().passed


def test_a_visa_nationality_written_with_fillers_still_needs_a_visa():
    rules = replace(ENTRY, visa_required=frozenset({"D<<"}))
    assert decide_for(rules, evidence(nationality="D"), CONTEXT, NONE).reasons == (ReasonCode.VISA_REQUIRED,)


def test_the_exit_authority_never_applies_visa_rules():
    rules = replace(EXIT, visa_required=frozenset({"XXA"}))
    assert decide_for(rules, evidence(nationality="XXA"), CONTEXT, NONE).passed


def test_an_entry_alert_hit_refers_and_is_the_entry_sides_alone():
    joint = both(entry_alerts=WANTED)
    assert joint.entry.reasons == (ReasonCode.ALERT_LIST_HIT,) and joint.exit.passed
    assert joint.exit.alert_hits == () and joint.entry.alert_hits[0].entry_id == "arc-w-1"


def test_document_types_and_minor_age_are_each_authoritys_own():
    id_card = both(Evidence(parse(specimen("TD1"), today=TODAY), good_chip(), good_face()))   # exit takes I
    assert id_card.exit.passed and id_card.entry.reasons == (ReasonCode.DOCUMENT_TYPE_NOT_ACCEPTED,)
    seventeen = evidence(birth_date="090101")        # 17 on TODAY: minor for exit (18), adult for entry (16)
    joint = both(seventeen)
    assert joint.exit.reasons == (ReasonCode.MINOR,) and joint.entry.passed


def test_each_authoritys_offline_rule_reads_its_own_link():
    offline = replace(CONTEXT, bmis_reachable=False)
    strict = replace(ENTRY, allow_offline=False)
    assert decide_for(EXIT, evidence(), offline, NONE).passed
    assert decide_for(strict, evidence(), offline, NONE).reasons == (ReasonCode.BMIS_UNREACHABLE,)


def test_an_unsynchronised_clock_refers_never_rejects():
    expired = Evidence(mrz(expiry_date="240101"), good_chip(), good_face())
    decision = decide_for(EXIT, expired, replace(CONTEXT, clock_synchronised=False), NONE)
    assert decision.outcome is Outcome.REFER and ReasonCode.DOCUMENT_EXPIRED in decision.reasons


def test_one_reject_makes_the_lane_refer_and_stays_in_its_own_record():
    rejected = Decision(Outcome.REJECT, (Finding(ReasonCode.DG1_MISMATCH, Outcome.REJECT),))
    joint = JointDecision(rejected, Decision(Outcome.PASS))
    assert joint.lane_decision().outcome is Outcome.REFER
    assert own_decision(joint, Role.EXIT, joint.lane).outcome is Outcome.REJECT
    assert own_decision(joint, Role.ENTRY, joint.lane).outcome is Outcome.PASS


def test_each_record_carries_only_its_own_findings_and_hits():
    joint = both(evidence(nationality="XXA"), exit_alerts=BAN, entry_alerts=WANTED)
    exit_own = own_decision(joint, Role.EXIT, joint.lane)
    entry_own = own_decision(joint, Role.ENTRY, joint.lane)
    assert set(exit_own.reasons) == {ReasonCode.EXIT_BAN} and [h.entry_id for h in exit_own.alert_hits] == ["ban-7"]
    assert set(entry_own.reasons) == {ReasonCode.ALERT_LIST_HIT, ReasonCode.VISA_REQUIRED}
    assert [h.entry_id for h in entry_own.alert_hits] == ["arc-w-1"]


def test_what_the_lane_added_goes_to_both_records():
    joint = both()
    occupied = joint.lane.with_finding(Finding(ReasonCode.MORE_THAN_ONE_PERSON, Outcome.REFER, "lane occupied"))
    for role in Role:
        own = own_decision(joint, role, occupied)
        assert own.reasons == (ReasonCode.MORE_THAN_ONE_PERSON,) and own.outcome is Outcome.REFER


def test_a_decision_the_lane_did_not_take_from_the_joint_one_carries_no_alert_data():
    joint = both(entry_alerts=WANTED)
    # the decision timed out and the lane referred on its own; a stray hit cannot be attributed
    stray = Decision(Outcome.REFER, (Finding(ReasonCode.ALERT_LIST_HIT, Outcome.REFER),
                                     Finding(ReasonCode.DECISION_UNAVAILABLE, Outcome.REFER)), joint.entry.alert_hits)
    for role in Role:
        own = own_decision(joint, role, stray)
        assert own.reasons == (ReasonCode.DECISION_UNAVAILABLE,) and own.alert_hits == ()
    assert own_decision(None, Role.EXIT, None) is None


def test_an_unreadable_chip_refers_at_both():
    ev = Evidence(mrz(), ChipEvidence.failed(ChipStatus.UNREADABLE), good_face())
    joint = both(ev)
    assert ReasonCode.CHIP_UNREADABLE in joint.exit.reasons and ReasonCode.CHIP_UNREADABLE in joint.entry.reasons


@pytest.mark.parametrize("code, accepted, ok", [
    ("P", {"P"}, True), ("P<", {"P"}, True), ("PD", {"P"}, True), ("PD", {"PD"}, True), ("PO", {"PD"}, False),
    ("I", {"P"}, False), ("ID", {"I"}, True), ("", {"P"}, False)])
def test_document_type_rule(code, accepted, ok):
    assert document_type_accepted(code, frozenset(accepted)) is ok


OUTCOMES = st.sampled_from(list(Outcome))


@settings(max_examples=60, deadline=None)
@given(OUTCOMES, OUTCOMES)
def test_the_lane_passes_exactly_when_both_pass(a, b):
    parts = [Decision(o, () if o is Outcome.PASS else (Finding(ReasonCode.MINOR, o),)) for o in (a, b)]
    joint = JointDecision(*parts)
    assert joint.lane.passed == (a is Outcome.PASS and b is Outcome.PASS)
    assert joint.lane.outcome in (Outcome.PASS, Outcome.REFER)
    assert own_decision(joint, Role.EXIT, joint.lane).outcome is a
    assert own_decision(joint, Role.ENTRY, joint.lane).outcome is b
