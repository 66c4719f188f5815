"""Decision outcomes, reason codes and the Decision value the policy returns."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .alerts import AlertHit


class Outcome(str, enum.Enum):
    """Ordered by severity: the worst finding decides."""
    PASS = "pass"
    REFER = "refer"     # an officer looks: doubt, assistance, rules of this lane
    REJECT = "reject"   # a definite failure of the document or its holder's checks

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Outcome.PASS: 0, Outcome.REFER: 1, Outcome.REJECT: 2}


class ReasonCode(str, enum.Enum):
    MRZ_INVALID = "mrz_invalid"
    DOCUMENT_EXPIRED = "document_expired"
    EXPIRY_NOT_STATED = "expiry_not_stated"            # MRZ expiry '<<<<<<': validity unknown
    CHIP_UNREADABLE = "chip_unreadable"
    PASSIVE_AUTH_FAILED = "passive_auth_failed"        # detail: PaReason values
    CLONE_SUSPECTED = "clone_suspected"                # active/chip authentication failed
    PACE_DOWNGRADE_SUSPECTED = "pace_downgrade_suspected"  # EF.CardAccess differs from the signed PACEInfos
    DG1_MISMATCH = "dg1_mismatch"                      # chip DG1 differs from the printed MRZ
    FACE_NOT_MATCHED = "face_not_matched"
    FACE_QUALITY = "face_quality"                      # no usable face within the attempts
    FACE_NOT_CAPTURED = "face_not_captured"            # camera fault or capture timeout
    PRESENTATION_ATTACK = "presentation_attack_suspected"   # refer + alarm, never a silent reject
    PAD_NOT_PERFORMED = "pad_not_performed"            # PAD required by config but not done
    MORE_THAN_ONE_PERSON = "more_than_one_person"
    ALERT_LIST_HIT = "alert_list_hit"                  # detail: list kinds; hits carried apart
    ALERT_LISTS_UNAVAILABLE = "alert_lists_unavailable"
    MINOR = "minor_below_age"
    BIRTH_DATE_UNKNOWN = "birth_date_unknown"          # age cannot be established
    NATIONALITY_NOT_ELIGIBLE = "nationality_not_eligible"
    LANE_MANUAL_MODE = "lane_manual_mode"              # registration-only surge: everyone referred
    LANE_CLOSED = "lane_closed"
    BMIS_UNREACHABLE = "bmis_unreachable"
    OFFICER_REFUSED = "officer_refused"                # assisted mode: the officer referred to the desk
    OFFICER_REJECTED = "officer_rejected"              # assisted mode: the officer refused entry
    OFFICER_NO_ANSWER = "officer_no_answer"
    OFFICER_UNIDENTIFIED = "officer_unidentified"      # a confirmation nobody can be held to
    OFFICER_CLEARED = "officer_cleared"                # one-stop: the referring authority's officer cleared it
    DECISION_UNAVAILABLE = "decision_unavailable"      # the policy could not run in time
    CLOCK_NOT_SYNCHRONISED = "clock_not_synchronised"  # expiry and certificate checks need the date
    # one-stop border post (policy/onestop.py): one authority's own rules
    DOCUMENT_TYPE_NOT_ACCEPTED = "document_type_not_accepted"
    VISA_REQUIRED = "visa_required"                    # entry: a visa the gate cannot verify
    EXIT_BAN = "exit_ban"                              # exit: a hit in an exit-ban list


@dataclass(frozen=True, slots=True)
class Finding:
    code: ReasonCode
    outcome: Outcome
    detail: str = ""        # sub-reason codes only, never personal data

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "outcome": self.outcome.value, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    alert_hits: tuple[AlertHit, ...] = ()

    @classmethod
    def from_findings(cls, findings: tuple[Finding, ...], hits: tuple[AlertHit, ...] = ()) -> Decision:
        outcome = max((f.outcome for f in findings), key=lambda o: o.severity, default=Outcome.PASS)
        return cls(outcome, findings, hits)

    @classmethod
    def refer(cls, code: ReasonCode, detail: str = "") -> Decision:
        return cls(Outcome.REFER, (Finding(code, Outcome.REFER, detail),))

    @property
    def reasons(self) -> tuple[ReasonCode, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def alert_hit(self) -> bool:
        return bool(self.alert_hits)

    def with_finding(self, finding: Finding) -> Decision:
        return Decision.from_findings(self.findings + (finding,), self.alert_hits)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "reasons": [c.value for c in self.reasons],
                "findings": [f.to_dict() for f in self.findings],
                "alert_hits": [h.to_dict() for h in self.alert_hits]}
