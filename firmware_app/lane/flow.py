"""The traveller's path before the doors: document, chip, face, decision, officer review, refer."""
from __future__ import annotations

from collections.abc import Callable

from firmware_app.face.capture import CaptureOutcome
from firmware_app.kiosk.view import MAX_SECONDS_LEFT, Instruction, Screen
from firmware_app.policy import (
    ChipEvidence,
    ChipStatus,
    Decision,
    Evidence,
    FaceEvidence,
    Finding,
    LaneMode,
    Outcome,
    ReasonCode,
)

from . import events as ev
from .actions import (
    AlarmKind,
    CancelStages,
    ExceptionKind,
    RequestDecision,
    RequestOfficerReview,
    StartChipRead,
    StartFaceCapture,
)
from .leaving import on_time as leaving_on_time
from .lifecycle import begin, end, leaving_doors, outcome_of, settle, shutting_behind
from .passage import start_passage
from .state import CrossingOutcome, LaneTimeouts, State, TimerKind, Transaction
from .step import Step
from .views import document_view, face_view, refer_view, view

_RETRY_FACE = frozenset({CaptureOutcome.NO_USABLE_FACE, CaptureOutcome.CAMERA_FAULT})


def document_presented(s: Step, event: ev.DocumentPresented) -> None:
    if s.txn is None:
        begin(s)
    s.update_txn(mrz=event.mrz)
    # an invalid MRZ with repair candidates goes to the chip: only BAC + DG1 can confirm one
    if event.mrz.valid or event.mrz.candidates:
        start_chip(s)
    else:
        document_retry(s)


def document_unreadable(s: Step, event: ev.DocumentUnreadable) -> None:
    if s.txn is None:
        begin(s)
    document_retry(s)


def document_retry(s: Step) -> None:
    attempts = s.active.document_attempts + 1
    s.update_txn(document_attempts=attempts)
    if attempts >= s.data.settings.document_attempts:
        go_decide(s)
        return
    s.to(State.DOCUMENT)
    s.start_timer(TimerKind.DOCUMENT, s.data.settings.timeouts.document_s)
    s.show(document_view(s.active, retry=attempts > 1))


def start_chip(s: Step) -> None:
    s.cancel_timer(TimerKind.DOCUMENT)
    s.to(State.CHIP)
    s.mark("chip")
    mrz = s.active.mrz
    assert mrz is not None              # the chip is read only with a printed MRZ
    s.emit(StartChipRead(s.active.txn_id, mrz))
    s.start_timer(TimerKind.CHIP, s.data.settings.timeouts.chip_s)
    s.show(view(Screen.READING_CHIP, s.active, Instruction.KEEP_DOCUMENT_STILL))


def chip_result(s: Step, event: ev.ChipResult) -> None:
    s.cancel_timer(TimerKind.CHIP)
    s.update_txn(chip=event.evidence)
    if event.evidence.confirmed_mrz is not None:
        s.update_txn(mrz=event.evidence.confirmed_mrz)
    if not _mrz_valid(s):
        document_retry(s)       # the chip confirmed no repair candidate: read the document again
    elif event.evidence.status is ChipStatus.READ:
        start_face(s)
    else:
        go_decide(s)


def _mrz_valid(s: Step) -> bool:
    return s.active.mrz is not None and s.active.mrz.valid


def start_face(s: Step) -> None:
    rounds = s.active.face_rounds + 1
    s.update_txn(face_rounds=rounds)
    s.to(State.FACE)
    if rounds == 1:
        s.mark("face")
    s.emit(StartFaceCapture(s.active.txn_id, rounds))
    s.start_timer(TimerKind.FACE, s.data.settings.timeouts.face_s)
    s.show(face_view(s.active, None))


def face_feedback(s: Step, event: ev.FaceFeedback) -> None:
    s.show(face_view(s.active, event.instruction))


def face_result(s: Step, event: ev.FaceResult) -> None:
    s.cancel_timer(TimerKind.FACE)
    s.update_txn(face=event.evidence)
    if event.evidence.outcome in _RETRY_FACE and s.active.face_rounds < s.data.settings.face_rounds:
        start_face(s)
    else:
        go_decide(s)


def stage_failed(s: Step, stage: ev.Stage, reason: str, timed_out: bool) -> None:
    """A stage broke or overran: note it, stop it, and let the policy refer on what is missing."""
    kind = ExceptionKind.STAGE_TIMEOUT if timed_out else ExceptionKind.STAGE_FAILED
    s.exception(kind, f"{stage.value}: {reason}")
    s.emit(CancelStages(s.active.txn_id))
    if stage is ev.Stage.CHIP:
        s.cancel_timer(TimerKind.CHIP)
        status = ChipStatus.TIMEOUT if timed_out else ChipStatus.UNREADABLE
        s.update_txn(chip=ChipEvidence.failed(status, reason))
        if not _mrz_valid(s):
            document_retry(s)   # no repair candidate's key opened the chip: a fresh read may do better
        else:
            go_decide(s)
    elif stage is ev.Stage.FACE:
        s.cancel_timer(TimerKind.FACE)
        s.update_txn(face=FaceEvidence(None))
        go_decide(s)
    else:
        s.cancel_timer(TimerKind.DECISION)
        apply_decision(s, Decision.refer(ReasonCode.DECISION_UNAVAILABLE, reason))


def go_decide(s: Step) -> None:
    s.cancel_timer(TimerKind.DOCUMENT)
    s.to(State.DECIDE)
    s.mark("decision")
    txn = s.active
    s.emit(RequestDecision(txn.txn_id, _evidence(txn), txn.mode, s.data.presence))
    s.start_timer(TimerKind.DECISION, s.data.settings.timeouts.decision_s)
    s.show(view(Screen.VERIFYING, txn))


def _evidence(txn: Transaction) -> Evidence:
    return Evidence(txn.mrz if txn.mrz is not None and txn.mrz.valid else None,
                    txn.chip or ChipEvidence(ChipStatus.NOT_ATTEMPTED), txn.face)


def decision_made(s: Step, event: ev.DecisionMade) -> None:
    s.cancel_timer(TimerKind.DECISION)
    decision = event.decision
    if decision.alert_hit:
        s.alarm(AlarmKind.ALERT_LIST_HIT)     # officer and BMIS only; the screen stays neutral
    if ReasonCode.PRESENTATION_ATTACK in decision.reasons:
        s.alarm(AlarmKind.PRESENTATION_ATTACK)   # likewise: the traveller is only referred
    if s.active.mode is LaneMode.ASSISTED or _reviewed_referral(s, decision):
        s.update_txn(decision=decision)
        s.to(State.OFFICER_REVIEW)
        s.emit(RequestOfficerReview(s.active.txn_id, decision, _evidence(s.active)))
        s.start_timer(TimerKind.OFFICER, s.data.settings.timeouts.officer_s)
        return
    apply_decision(s, decision)


def _reviewed_referral(s: Step, decision: Decision) -> bool:
    """One-stop: a referral in NORMAL mode goes to the referring authority's officer first."""
    return s.data.settings.referral_review and not decision.passed and s.active.mode is LaneMode.NORMAL


# An identified officer's REFER or REJECT adds its finding; ACCEPT confirms the policy's decision.
_VERDICT_FINDINGS = {ev.OfficerVerdict.REFER: Finding(ReasonCode.OFFICER_REFUSED, Outcome.REFER),
                     ev.OfficerVerdict.REJECT: Finding(ReasonCode.OFFICER_REJECTED, Outcome.REJECT)}


def officer_decision(s: Step, event: ev.OfficerDecision) -> None:
    """An officer accepts, refers or rejects; never upgrades to PASS. Every answer is audited.
    An answer nobody can be held to (no officer id) refers, whatever it said."""
    s.cancel_timer(TimerKind.OFFICER)
    officer = (event.officer_id or "").strip()[:64]
    verdict = ev.OfficerVerdict(event.verdict)
    s.update_txn(officer_id=officer or None, officer_verdict=verdict.value)
    decision = s.active.decision
    assert decision is not None         # officer review follows the policy's decision
    s.exception(ExceptionKind.OFFICER_DECISION,
                f"{verdict.value} by {officer or 'unidentified'}; policy said {decision.outcome.value}")
    finding = _VERDICT_FINDINGS.get(verdict) if officer else Finding(ReasonCode.OFFICER_UNIDENTIFIED, Outcome.REFER)
    if finding is None and s.data.settings.referral_review:
        decision = cleared(decision)
    apply_decision(s, decision.with_finding(finding) if finding is not None else decision)


def cleared(decision: Decision) -> Decision:
    """A one-stop referral its referring officers accepted passes, with their finding on record.
    A REJECT finding is never cleared (nor is a pass changed); apply_decision still checks the
    lane's own rules (one person, mode) after this."""
    if decision.outcome is not Outcome.REFER or any(f.outcome is Outcome.REJECT for f in decision.findings):
        return decision
    return Decision(Outcome.PASS, decision.findings + (Finding(ReasonCode.OFFICER_CLEARED, Outcome.PASS),),
                    decision.alert_hits)


def officer_timeout(s: Step) -> None:
    decision = s.active.decision
    assert decision is not None         # officer review follows the policy's decision
    apply_decision(s, decision.with_finding(Finding(ReasonCode.OFFICER_NO_ANSWER, Outcome.REFER)))


# Modes in which no door opens, whatever the decider answered (defence in depth).
_NO_PASSAGE_MODES = {LaneMode.REGISTRATION_ONLY: ReasonCode.LANE_MANUAL_MODE, LaneMode.CLOSED: ReasonCode.LANE_CLOSED}


def apply_decision(s: Step, decision: Decision) -> None:
    if decision.passed and _waits_for_the_door_behind(s):
        s.update_txn(decision=decision)
        s.set(pass_held=True)           # released by that door shutting, or by its held-open timer
        return
    if decision.passed and (s.data.presence > 0 or s.data.retreat):
        # the documents are checked outside: somebody already inside the lane must not be let on
        decision = decision.with_finding(Finding(ReasonCode.MORE_THAN_ONE_PERSON, Outcome.REFER, "lane occupied"))
    elif decision.passed and (s.data.sensed_open or s.data.commanded_open):
        # the last passage's door has not shut behind the previous traveller (read meanwhile): the
        # lane is not clear, so no door opens (never two passages at once)
        decision = decision.with_finding(Finding(ReasonCode.MORE_THAN_ONE_PERSON, Outcome.REFER, "lane not clear"))
    for mode in (s.active.mode, s.data.mode):      # closed by the BMIS while this one was decided: no door opens
        if decision.passed and mode in _NO_PASSAGE_MODES:
            decision = decision.with_finding(Finding(_NO_PASSAGE_MODES[mode], Outcome.REFER, mode.value))
    s.update_txn(decision=decision)
    if decision.passed:
        start_passage(s)
    else:
        refer(s, outcome_of(decision))


def _waits_for_the_door_behind(s: Step) -> bool:
    """Only the last traveller's door is still open, shutting on time (or they are still walking
    out through it, within their exit timer, alone), and nobody else is inside: a PASS waits for it
    rather than sending a genuine traveller to an officer."""
    walking_out = leaving_on_time(s)
    behind = shutting_behind(s) | (leaving_doors(s) if walking_out else frozenset())
    return bool(behind) and s.data.presence <= int(walking_out) and not s.data.retreat and \
        (s.data.sensed_open | s.data.commanded_open) <= behind


def release_held_pass(s: Step) -> None:
    """The door behind has shut (or did not, in time): decide the held PASS on the lane as it is now."""
    if not s.data.pass_held or s.txn is None or s.active.decision is None:
        return
    s.set(pass_held=False)
    apply_decision(s, s.active.decision)


def refer(s: Step, outcome: CrossingOutcome) -> None:
    """Record now (the officer gets the record at once), then wait for the document to go."""
    txn = s.txn
    s.secure_doors()
    end(s, outcome)
    s.to(State.REFER)
    s.start_timer(TimerKind.REFER, s.data.settings.timeouts.refer_s)
    s.show(refer_view(txn))


# Waits a traveller may extend from the kiosk; a running stage (chip, face) has its own budget.
_EXTENDABLE: dict[State, tuple[tuple[TimerKind, Callable[[LaneTimeouts], float]], ...]] = {
    State.DOCUMENT: ((TimerKind.DOCUMENT, lambda t: t.document_s),),
    State.REFER: ((TimerKind.REFER, lambda t: t.refer_s),),
    State.PASSAGE: ((TimerKind.ENTER, lambda t: t.enter_s), (TimerKind.EXIT, lambda t: t.exit_s))}


def more_time(s: Step) -> None:
    """Extend the running wait by its own length, at most `more_time_limit` times per wait."""
    for kind, length in _EXTENDABLE.get(s.data.state, ()):
        left = s.time_left(kind)
        if left is None:
            continue
        granted = dict(s.data.more_time).get(kind, 0)
        if granted < s.data.settings.more_time_limit:
            s.start_timer(kind, min(left + length(s.data.settings.timeouts), MAX_SECONDS_LEFT))
            counts = tuple((k, n) for k, n in s.data.more_time if k is not kind) + ((kind, granted + 1),)
            s.set(more_time=counts)
        s.reshow()      # refused or not, the page learns the real time left
        return


def assistance_requested(s: Step) -> None:
    """The officer is called once per request (not on every press); the screen says so."""
    if not s.data.assistance:
        s.set(assistance=True)
        s.alarm(AlarmKind.ASSISTANCE_REQUESTED, s.data.state.value)
        s.exception(ExceptionKind.ASSISTANCE_REQUESTED, s.data.state.value)
    s.reshow()


def assistance_answered(s: Step) -> None:
    if s.data.assistance:
        s.set(assistance=False)
        s.reshow()


def abandon(s: Step) -> None:
    """The document was taken away before the decision: stop everything, record, start over."""
    s.emit(CancelStages(s.active.txn_id))
    end(s, CrossingOutcome.ABANDONED)
    settle(s)
