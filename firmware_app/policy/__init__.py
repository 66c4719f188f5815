"""Decision policy: evidence from the stages + lane context + alert lists -> Decision.

    from firmware_app.policy import Evidence, PolicyContext, decide
    decision = decide(Evidence(mrz, chip, face), PolicyContext(today=...), alert_lists)
    decision.outcome (PASS | REFER | REJECT), decision.reasons, decision.alert_hits

Modules: decide (rules), reasons (Outcome, ReasonCode, Finding, Decision), evidence (stage results
reduced), alerts (AlertListChecker protocol + in-memory lists), modes (LaneMode), errors.
"""
from .alerts import AlertHit, AlertListChecker, AlertListKind, InMemoryAlertLists
from .decide import Evidence, PolicyContext, age_on, decide
from .errors import AlertListUnavailable, AlertQueryInvalid, PolicyError
from .evidence import ChipEvidence, ChipStatus, FaceEvidence
from .modes import LaneMode
from .reasons import Decision, Finding, Outcome, ReasonCode

__all__ = [
    "AlertHit",
    "AlertListChecker",
    "AlertListKind",
    "AlertListUnavailable",
    "AlertQueryInvalid",
    "ChipEvidence",
    "ChipStatus",
    "Decision",
    "Evidence",
    "FaceEvidence",
    "Finding",
    "InMemoryAlertLists",
    "LaneMode",
    "Outcome",
    "PolicyContext",
    "PolicyError",
    "ReasonCode",
    "age_on",
    "decide",
]
