"""Decision rules: one test per reason code, the worst finding decides, alert lists stay neutral."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.lds import Dg1Check
from firmware_app.emrtd.pa import PaFailure, PaReason, PaResult
from firmware_app.face.capture import CaptureOutcome
from firmware_app.face.pad import PadStatus
from firmware_app.face.quality import QualityIssue
from firmware_app.policy import (
    AlertListUnavailable,
    ChipEvidence,
    ChipStatus,
    Evidence,
    InMemoryAlertLists,
    LaneMode,
    Outcome,
    PolicyContext,
    ReasonCode,
    age_on,
    decide,
)
from firmware_app.policy.alerts import DocumentEntry, PersonEntry
from tests.lane_helpers import TODAY, good_chip, good_face, mrz

NO_ALERTS = InMemoryAlertLists()


def run(evidence=None, alerts=NO_ALERTS, **context):
    evidence = evidence or Evidence(mrz(), good_chip(), good_face())
    return decide(evidence, PolicyContext(today=TODAY, **context), alerts)


def with_chip(**changes):
    return Evidence(mrz(), replace(good_chip(), **changes), good_face())


def with_face(**changes):
    return Evidence(mrz(), good_chip(), replace(good_face(), **changes))


def test_a_good_traveller_passes():
    decision = run()
    assert decision.outcome is Outcome.PASS and decision.reasons == () and not decision.alert_hit


@pytest.mark.parametrize("evidence, code, outcome", [
    (Evidence(None, good_chip(), good_face()), ReasonCode.MRZ_INVALID, Outcome.REFER),
    (Evidence(mrz(expiry_date="240101"), good_chip(), good_face()), ReasonCode.DOCUMENT_EXPIRED, Outcome.REJECT),
    (with_chip(status=ChipStatus.UNREADABLE), ReasonCode.CHIP_UNREADABLE, Outcome.REFER),
    (Evidence(mrz(), ChipEvidence.failed(ChipStatus.TIMEOUT), good_face()), ReasonCode.CHIP_UNREADABLE, Outcome.REFER),
    (with_chip(passive=PaResult(True, False, True, (PaFailure(PaReason.DG_HASH_MISMATCH, 2),))),
     ReasonCode.PASSIVE_AUTH_FAILED, Outcome.REJECT),
    (with_chip(passive=PaResult(True, True, False, (PaFailure(PaReason.DS_NOT_TRUSTED),))),
     ReasonCode.PASSIVE_AUTH_FAILED, Outcome.REFER),
    (with_chip(active_auth=ChipCheckResult.failed(ChipCheck.ACTIVE_AUTHENTICATION, ChipCheckReason.SIGNATURE_INVALID)),
     ReasonCode.CLONE_SUSPECTED, Outcome.REJECT),
    (with_chip(chip_auth=ChipCheckResult.failed(ChipCheck.CHIP_AUTHENTICATION,
                                                ChipCheckReason.SM_FAILED_WITH_NEW_KEYS)),
     ReasonCode.CLONE_SUSPECTED, Outcome.REJECT),
    (with_chip(dg1_check=Dg1Check.DG1_MISMATCH), ReasonCode.DG1_MISMATCH, Outcome.REJECT),
    (with_face(outcome=CaptureOutcome.NO_MATCH, score=0.1), ReasonCode.FACE_NOT_MATCHED, Outcome.REFER),
    (with_face(outcome=CaptureOutcome.NO_USABLE_FACE, issues=(QualityIssue.BLURRED,)),
     ReasonCode.FACE_QUALITY, Outcome.REFER),
    (with_face(outcome=None), ReasonCode.FACE_NOT_CAPTURED, Outcome.REFER),
    (with_face(outcome=CaptureOutcome.CAMERA_FAULT), ReasonCode.FACE_NOT_CAPTURED, Outcome.REFER),
    (with_face(issues=(QualityIssue.MULTIPLE_FACES,)), ReasonCode.MORE_THAN_ONE_PERSON, Outcome.REFER),
    (with_face(pad=PadStatus.ATTACK_SUSPECTED), ReasonCode.PRESENTATION_ATTACK, Outcome.REFER),
    (Evidence(mrz(birth_date="150101"), good_chip(), good_face()), ReasonCode.MINOR, Outcome.REFER),
])
def test_each_reason_code_decides(evidence, code, outcome):
    decision = run(evidence)
    assert code in decision.reasons
    assert decision.outcome is outcome


def test_pa_sub_reason_is_carried_in_the_detail():
    decision = run(with_chip(passive=PaResult(False, True, True, (PaFailure(PaReason.SOD_SIGNATURE_INVALID),))))
    finding = next(f for f in decision.findings if f.code is ReasonCode.PASSIVE_AUTH_FAILED)
    assert "SOD_SIGNATURE_INVALID" in finding.detail


def test_unsupported_chip_check_algorithm_refers_instead_of_rejecting():
    check = ChipCheckResult.failed(ChipCheck.ACTIVE_AUTHENTICATION, ChipCheckReason.UNSUPPORTED_ALGORITHM)
    assert run(with_chip(active_auth=check)).outcome is Outcome.REFER


@pytest.mark.parametrize("context, code", [
    (dict(mode=LaneMode.REGISTRATION_ONLY), ReasonCode.LANE_MANUAL_MODE),
    (dict(mode=LaneMode.CLOSED), ReasonCode.LANE_CLOSED),
    (dict(allow_offline=False, bmis_reachable=False), ReasonCode.BMIS_UNREACHABLE),
    (dict(people_in_lane=2), ReasonCode.MORE_THAN_ONE_PERSON),
    (dict(eligible_nationalities=frozenset({"D<<", "FRA"})), ReasonCode.NATIONALITY_NOT_ELIGIBLE),
    (dict(minor_age=60), ReasonCode.MINOR),
])
def test_lane_context_refers(context, code):
    decision = run(**context)
    assert decision.outcome is Outcome.REFER and code in decision.reasons


@pytest.mark.parametrize("configured", [{"D<<"}, {"D"}, {"UTO", "D<<"}])
def test_a_nationality_written_with_fillers_is_eligible(configured):
    # the config takes codes as printed ('D<<', pattern [A-Z][A-Z<]{2}); the parsed MRZ says 'D'
    german = Evidence(mrz(nationality="D"), good_chip(), good_face())
    assert run(german, eligible_nationalities=frozenset(configured)).passed
    assert ReasonCode.NATIONALITY_NOT_ELIGIBLE in run(eligible_nationalities=frozenset(configured - {"UTO"})).reasons


def test_offline_is_fine_when_allowed_and_eligible_nationality_passes():
    assert run(allow_offline=True, bmis_reachable=False, eligible_nationalities=frozenset({"UTO"})).passed


def test_worst_finding_decides_and_all_are_kept():
    evidence = Evidence(mrz(expiry_date="240101"), replace(good_chip(), status=ChipStatus.UNREADABLE), good_face())
    decision = run(evidence, mode=LaneMode.REGISTRATION_ONLY)
    assert decision.outcome is Outcome.REJECT
    expected = {ReasonCode.DOCUMENT_EXPIRED, ReasonCode.CHIP_UNREADABLE, ReasonCode.LANE_MANUAL_MODE}
    assert expected <= set(decision.reasons)


def test_document_alert_hit_refers_with_the_hit_for_the_officer():
    alerts = InMemoryAlertLists([DocumentEntry("sltd-9", "UTO", "L898902C3", "stolen")])
    decision = run(alerts=alerts)
    assert decision.outcome is Outcome.REFER and decision.reasons == (ReasonCode.ALERT_LIST_HIT,)
    assert decision.alert_hits[0].entry_id == "sltd-9"


def test_person_alert_hit_is_transliteration_aware():
    alerts = InMemoryAlertLists(persons=[PersonEntry("p1", "ERIKßON", "ANNA MARIA", date(1974, 8, 12))])
    assert ReasonCode.ALERT_LIST_HIT in run(alerts=alerts).reasons  # ß is spelt SS in an MRZ
    alerts = InMemoryAlertLists(persons=[PersonEntry("p1", "ERIKSEN", "ANNA MARIA", date(1974, 8, 12))])
    assert run(alerts=alerts).passed
    alerts = InMemoryAlertLists(persons=[PersonEntry("p1", "ÉRIKSSON", "ANNA MARIA", date(1974, 8, 12))])
    assert ReasonCode.ALERT_LIST_HIT in run(alerts=alerts).reasons
    other_day = InMemoryAlertLists(persons=[PersonEntry("p1", "ERIKSSON", "ANNA MARIA", date(1974, 8, 13))])
    assert run(alerts=other_day).passed


class BrokenLists:
    def check_document(self, issuing_state, number):
        raise AlertListUnavailable("store locked")

    def check_person(self, primary, secondary, birth_date):
        raise AlertListUnavailable("store locked")


def test_unavailable_alert_lists_refer_never_pass():
    decision = run(alerts=BrokenLists())
    assert decision.outcome is Outcome.REFER and ReasonCode.ALERT_LISTS_UNAVAILABLE in decision.reasons


@pytest.mark.parametrize("birth, today, age", [
    (date(2000, 2, 29), date(2018, 2, 28), 17), (date(2000, 2, 29), date(2018, 3, 1), 18),
    (date(2008, 11, 26), date(2026, 11, 26), 18), (date(2008, 11, 27), date(2026, 11, 26), 17),
])
def test_age_on(birth, today, age):
    assert age_on(birth, today) == age


def test_decision_to_dict_is_plain():
    decision = run(with_chip(dg1_check=Dg1Check.DG1_MISMATCH))
    data = decision.to_dict()
    assert data["outcome"] == "reject" and data["reasons"] == ["dg1_mismatch"]


def test_pad_required_refers_a_crossing_without_pad_and_optional_records_it():
    skipped = with_face(pad=PadStatus.NOT_PERFORMED, pad_skipped="no_face")
    required = run(skipped, pad_required=True)
    assert required.outcome is Outcome.REFER and ReasonCode.PAD_NOT_PERFORMED in required.reasons
    assert required.findings[-1].detail == "no_face"
    optional = run(skipped)
    assert ReasonCode.PAD_NOT_PERFORMED not in optional.reasons and optional.passed
    live = run(with_face(pad=PadStatus.LIVE, pad_score=0.93), pad_required=True)
    assert live.passed


def test_attack_suspicion_refers_never_rejects_even_with_a_match():
    decision = run(with_face(pad=PadStatus.ATTACK_SUSPECTED, pad_score=0.05))
    assert decision.outcome is Outcome.REFER
    assert [f.code for f in decision.findings] == [ReasonCode.PRESENTATION_ATTACK]


def test_an_unsynchronised_clock_refers_and_never_rejects_or_passes_on_the_date():
    assert run(clock_synchronised=True).passed
    decision = run(clock_synchronised=False)
    assert decision.outcome is Outcome.REFER and decision.reasons == (ReasonCode.CLOCK_NOT_SYNCHRONISED,)
    expired = run(Evidence(mrz(expiry_date="240101"), good_chip(), good_face()), clock_synchronised=False)
    assert expired.outcome is Outcome.REFER
    assert {ReasonCode.CLOCK_NOT_SYNCHRONISED, ReasonCode.DOCUMENT_EXPIRED} <= set(expired.reasons)
