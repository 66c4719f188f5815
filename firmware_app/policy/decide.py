"""The decision rules: evidence + lane context + alert lists -> PASS | REFER | REJECT.

Pure apart from the injected alert checker. Every rule adds findings; the worst finding decides,
and all findings are kept so the officer and the BMIS see the whole picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from firmware_app.emrtd.chip_auth.result import ChipCheckReason
from firmware_app.emrtd.lds import Dg1Check
from firmware_app.emrtd.pa import PaReason
from firmware_app.face.capture import CaptureOutcome
from firmware_app.face.pad import PadStatus
from firmware_app.mrz import IssueCode, MrzResult

from .alerts import AlertHit, AlertListChecker
from .errors import AlertListUnavailable, AlertQueryInvalid
from .evidence import ChipEvidence, ChipStatus, FaceEvidence
from .modes import LaneMode
from .reasons import Decision, Finding, Outcome, ReasonCode

# Failures of our own trust setup, not of the document: refer rather than reject.
_TRUST_SETUP_REASONS = frozenset({PaReason.NO_TRUST_STORE, PaReason.DS_NOT_TRUSTED,
                                  PaReason.UNSUPPORTED_ALGORITHM, PaReason.CSCA_EXPIRED})
_FACE_REASONS = {
    CaptureOutcome.NO_MATCH: ReasonCode.FACE_NOT_MATCHED,
    CaptureOutcome.NO_USABLE_FACE: ReasonCode.FACE_QUALITY,
    CaptureOutcome.CAMERA_FAULT: ReasonCode.FACE_NOT_CAPTURED,
}


@dataclass(frozen=True)
class PolicyContext:
    today: date
    mode: LaneMode = LaneMode.NORMAL
    minor_age: int = 18
    eligible_nationalities: frozenset[str] = field(default_factory=frozenset)  # empty: all
    allow_offline: bool = True
    bmis_reachable: bool = True
    people_in_lane: int = 0         # presence sensors at decision time
    pad_required: bool = False      # config face.pad.required
    clock_synchronised: bool = True  # the caller's clock probe; False: today may be wrong


@dataclass(frozen=True)
class Evidence:
    mrz: MrzResult | None           # None: the printed MRZ could not be read
    chip: ChipEvidence = ChipEvidence(ChipStatus.NOT_ATTEMPTED)
    face: FaceEvidence | None = None


def decide(evidence: Evidence, context: PolicyContext, alerts: AlertListChecker) -> Decision:
    findings = _lane_findings(context) + _document_findings(evidence.mrz, context)
    findings += _chip_findings(evidence.chip) + _face_findings(evidence.face, context)
    alert_findings, hits = _alert_findings(evidence.mrz, alerts)
    if not context.clock_synchronised:
        return _undecided(findings + alert_findings, hits)
    return Decision.from_findings(findings + alert_findings, hits)


def _undecided(findings: tuple[Finding, ...], hits: tuple[AlertHit, ...]) -> Decision:
    """A wrong date makes expiry, age and certificate findings unreliable both ways: refer, never
    pass or reject, and keep every finding for the officer."""
    return Decision(Outcome.REFER, (_refer(ReasonCode.CLOCK_NOT_SYNCHRONISED),) + findings, hits)


def _refer(code: ReasonCode, detail: str = "") -> Finding:
    return Finding(code, Outcome.REFER, detail)


def _reject(code: ReasonCode, detail: str = "") -> Finding:
    return Finding(code, Outcome.REJECT, detail)


def _lane_findings(context: PolicyContext) -> tuple[Finding, ...]:
    found = []
    if context.mode is LaneMode.CLOSED:
        found.append(_refer(ReasonCode.LANE_CLOSED))
    elif context.mode is LaneMode.REGISTRATION_ONLY:
        found.append(_refer(ReasonCode.LANE_MANUAL_MODE, LaneMode.REGISTRATION_ONLY.value))
    if not context.bmis_reachable and not context.allow_offline:
        found.append(_refer(ReasonCode.BMIS_UNREACHABLE))
    if context.people_in_lane > 1:
        found.append(_refer(ReasonCode.MORE_THAN_ONE_PERSON, "presence sensors"))
    return tuple(found)


def _document_findings(mrz: MrzResult | None, context: PolicyContext) -> tuple[Finding, ...]:
    if mrz is None or not mrz.valid:
        detail = "" if mrz is None else ",".join(sorted({i.code.value for i in mrz.errors}))
        return (_refer(ReasonCode.MRZ_INVALID, detail),)
    found = []
    # the MRZ parse judged expiry on the same day, with the post's grace days
    if mrz.has_issue(IssueCode.EXPIRED):
        found.append(_reject(ReasonCode.DOCUMENT_EXPIRED))
    elif mrz.expiry_date_iso is None:
        # an MRZ that states no expiry ('<<<<<<'): the gate cannot establish validity, an officer can
        found.append(_refer(ReasonCode.EXPIRY_NOT_STATED))
    found.extend(_age_findings(mrz.birth_date_iso, context))
    eligible = context.eligible_nationalities
    if eligible and not nationality_in(mrz.nationality, eligible):
        found.append(_refer(ReasonCode.NATIONALITY_NOT_ELIGIBLE))
    return tuple(found)


def nationality_in(nationality: str, codes: frozenset[str]) -> bool:
    """Config codes are written as printed ('D<<', the MRZ's fillers); the parsed MRZ strips them."""
    return nationality.rstrip("<") in {code.rstrip("<") for code in codes}


def _age_findings(birth: date | None, context: PolicyContext) -> tuple[Finding, ...]:
    if birth is None:
        return (_refer(ReasonCode.BIRTH_DATE_UNKNOWN),)
    if age_on(birth, context.today) < context.minor_age:
        return (_refer(ReasonCode.MINOR, f"under {context.minor_age}"),)
    return ()


def age_on(birth: date, today: date) -> int:
    """Completed years; a 29 February birthday counts on 1 March in common years."""
    years = today.year - birth.year
    return years - 1 if (today.month, today.day) < (birth.month, birth.day) else years


def _chip_findings(chip: ChipEvidence) -> tuple[Finding, ...]:
    if chip.status is not ChipStatus.READ:
        return (_refer(ReasonCode.CHIP_UNREADABLE, chip.status.value),)
    found = list(_passive_findings(chip))
    if chip.dg1_check is not Dg1Check.MATCH:
        detail = chip.dg1_check.value if chip.dg1_check else "not compared"
        found.append(_reject(ReasonCode.DG1_MISMATCH, detail))
    found.extend(_clone_findings(chip))
    found.extend(_downgrade_findings(chip))
    return tuple(found)


def _passive_findings(chip: ChipEvidence) -> tuple[Finding, ...]:
    pa = chip.passive
    if pa is None:
        return (_refer(ReasonCode.PASSIVE_AUTH_FAILED, "not performed"),)
    if pa.passed:
        return ()
    detail = ",".join(f.code() for f in pa.failures) or "chain unknown"
    setup_only = pa.signature_valid and pa.hashes_valid and set(pa.reasons) <= _TRUST_SETUP_REASONS
    return (Finding(ReasonCode.PASSIVE_AUTH_FAILED, Outcome.REFER if setup_only else Outcome.REJECT, detail),)


def _clone_findings(chip: ChipEvidence) -> tuple[Finding, ...]:
    found = []
    for check in (chip.active_auth, chip.chip_auth):
        if check is None or not check.performed or check.passed:
            continue
        # an unsupported algorithm is our gap, not proof of a clone
        outcome = Outcome.REFER if check.reason is ChipCheckReason.UNSUPPORTED_ALGORITHM else Outcome.REJECT
        found.append(Finding(ReasonCode.CLONE_SUSPECTED, outcome, f"{check.check.value}:{check.reason.value}"))
    return tuple(found)


def _downgrade_findings(chip: ChipEvidence) -> tuple[Finding, ...]:
    # A rewritten EF.CardAccess (or an issuer's inconsistent files): the chip's authenticity is in
    # doubt, not proven false, so an officer looks.
    check = chip.pace_parameters
    if check is None or not check.performed or check.passed:
        return ()
    return (_refer(ReasonCode.PACE_DOWNGRADE_SUSPECTED, check.reason.value),)


def _face_findings(face: FaceEvidence | None, context: PolicyContext) -> tuple[Finding, ...]:
    if face is None or face.outcome is None:
        return (_refer(ReasonCode.FACE_NOT_CAPTURED),)
    found = []
    if face.outcome in _FACE_REASONS:
        detail = ",".join(i.value for i in face.issues)
        found.append(_refer(_FACE_REASONS[face.outcome], detail))
    if face.several_faces and context.people_in_lane <= 1:
        found.append(_refer(ReasonCode.MORE_THAN_ONE_PERSON, "camera"))
    found.extend(_pad_findings(face, context))
    return tuple(found)


def _pad_findings(face: FaceEvidence, context: PolicyContext) -> tuple[Finding, ...]:
    # A suspicion is not proof (a first-layer software PAD errs both ways): an officer looks.
    if face.pad is PadStatus.ATTACK_SUSPECTED:
        return (_refer(ReasonCode.PRESENTATION_ATTACK),)
    if face.pad is PadStatus.NOT_PERFORMED and context.pad_required:
        return (_refer(ReasonCode.PAD_NOT_PERFORMED, face.pad_skipped or ""),)
    return ()


def _alert_findings(mrz: MrzResult | None, alerts: AlertListChecker
                    ) -> tuple[tuple[Finding, ...], tuple[AlertHit, ...]]:
    if mrz is None or not mrz.valid:
        return (), ()     # nothing reliable to look up; the MRZ finding already refers
    try:
        hits = alerts.check_document(mrz.issuing_state, mrz.document_number)
        hits += alerts.check_person(mrz.primary_identifier, mrz.secondary_identifier, mrz.birth_date)
        if not mrz.primary_identifier:
            # '<<NAME' (accepted, MRZ decisions): a list may hold that single name as the surname
            hits = tuple(dict.fromkeys(hits + alerts.check_person(mrz.secondary_identifier, "", mrz.birth_date)))
    except (AlertListUnavailable, AlertQueryInvalid) as exc:
        return (_refer(ReasonCode.ALERT_LISTS_UNAVAILABLE, type(exc).__name__),), ()
    if not hits:
        return (), ()
    kinds = ",".join(sorted({hit.kind.value for hit in hits}))
    return (_refer(ReasonCode.ALERT_LIST_HIT, kinds),), tuple(hits)
