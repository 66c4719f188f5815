"""The crossing record: one per transaction, the BMIS's view of what happened at the gate.

A plain frozen dataclass with `to_dict()` (JSON-ready). Document fields are named after ICAO 9303
DG1 / PAXLST data elements. It holds personal data: its repr shows only ids and the outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from firmware_app.mrz import MrzResult
from firmware_app.policy import ChipEvidence, Decision, FaceEvidence


@dataclass(frozen=True)
class DocumentFields:
    document_code: str
    issuing_state: str
    document_number: str
    nationality: str
    date_of_birth: str              # YYMMDD as printed
    sex: str
    date_of_expiry: str             # YYMMDD as printed
    primary_identifier: str         # surname (PAXLST family name)
    secondary_identifier: str       # given names
    mrz_valid: bool

    @classmethod
    def from_mrz(cls, mrz: MrzResult) -> DocumentFields:
        return cls(mrz.document_code, mrz.issuing_state, mrz.document_number, mrz.nationality,
                   mrz.birth_date, mrz.sex, mrz.expiry_date, mrz.primary_identifier,
                   mrz.secondary_identifier, mrz.valid)

    def __repr__(self) -> str:
        return f"DocumentFields(<redacted>, mrz_valid={self.mrz_valid})"

    def to_dict(self) -> dict:
        return {"document_code": self.document_code, "issuing_state": self.issuing_state,
                "document_number": self.document_number, "nationality": self.nationality,
                "date_of_birth": self.date_of_birth, "sex": self.sex, "date_of_expiry": self.date_of_expiry,
                "primary_identifier": self.primary_identifier,
                "secondary_identifier": self.secondary_identifier, "mrz_valid": self.mrz_valid}


@dataclass(frozen=True)
class PassageFields:
    """What the door and presence sensors saw."""
    doors_opened: bool
    single_passage_confirmed: bool | None   # None: no passage was attempted
    max_presence: int

    def to_dict(self) -> dict:
        return {"doors_opened": self.doors_opened, "single_passage_confirmed": self.single_passage_confirmed,
                "max_presence": self.max_presence}


@dataclass(frozen=True)
class CrossingRecord:
    transaction_id: str
    device_id: str
    direction: str
    mode: str
    outcome: str                            # CrossingOutcome value
    started_at: datetime
    ended_at: datetime
    document: DocumentFields | None
    chip: ChipEvidence | None
    face: FaceEvidence | None
    decision: Decision | None
    officer_id: str | None
    passage: PassageFields
    timings_ms: dict[str, float] = field(default_factory=dict)
    exceptions: tuple[str, ...] = ()
    officer_decision: str | None = None     # assisted mode: the officer's verdict (OfficerVerdict value)

    def __repr__(self) -> str:
        return f"CrossingRecord(transaction_id={self.transaction_id!r}, outcome={self.outcome!r})"

    def to_dict(self) -> dict:
        return {
            "transaction_id": self.transaction_id, "device_id": self.device_id,
            "direction": self.direction, "mode": self.mode, "outcome": self.outcome,
            "started_at": self.started_at.isoformat(), "ended_at": self.ended_at.isoformat(),
            "document": self.document.to_dict() if self.document else None,
            "access_protocol": self.chip.access_protocol if self.chip else None,
            "chip": self.chip.to_dict() if self.chip else None,
            "face": self.face.to_dict() if self.face else None,
            "decision": self.decision.to_dict() if self.decision else None,
            "alert_hit": bool(self.decision and self.decision.alert_hit),
            "officer_id": self.officer_id,
            "officer_decision": self.officer_decision,
            "passage": self.passage.to_dict(),
            "timings_ms": dict(self.timings_ms),
            "exceptions": list(self.exceptions),
        }
