"""What the stages found, reduced to what the policy and the crossing record need.

Built by the lane runner from the stage results (chip read + checks, face capture); immutable,
and free of images and key material. `ChipEvidence.from_read` / `FaceEvidence.from_capture` adapt
the emrtd and face result types.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from firmware_app.emrtd.chip_auth.result import ChipCheckResult
from firmware_app.emrtd.lds import Dg1Check
from firmware_app.emrtd.pa import PaResult
from firmware_app.face.capture import CaptureOutcome, CaptureResult
from firmware_app.face.pad import PadStatus
from firmware_app.face.quality import QualityIssue
from firmware_app.mrz import MrzResult


class ChipStatus(str, enum.Enum):
    READ = "read"
    UNREADABLE = "unreadable"       # no chip answer, access control refused, files unreadable
    TIMEOUT = "timeout"
    NOT_ATTEMPTED = "not_attempted"


@dataclass(frozen=True)
class TrustView:
    """One authority's judgement of the chip read against its own trust store (one-stop lane):
    passive authentication, the PACE-CAM signer chain and the PACE downgrade check (which signed
    PACEInfos count as authentic) depend on the anchors; the rest does not."""
    passive: PaResult | None
    chip_auth: ChipCheckResult | None
    pace_parameters: ChipCheckResult | None


@dataclass(frozen=True)
class ChipEvidence:
    status: ChipStatus
    access_protocol: str | None = None      # "BAC" | "PACE"
    access_reason: str | None = None
    passive: PaResult | None = None
    dg1_check: Dg1Check | None = None
    active_auth: ChipCheckResult | None = None
    chip_auth: ChipCheckResult | None = None
    detail: str = ""                        # error class or reason name, never data
    pace_parameters: ChipCheckResult | None = None  # EF.CardAccess vs the signed PACEInfos (downgrade)
    # An invalid printed MRZ's repair candidate that BAC opened the chip with and the chip's DG1
    # equals (`mrz.confirmed_by_chip`): the lane adopts it as the transaction's MRZ.
    confirmed_mrz: MrzResult | None = field(default=None, repr=False)
    # One-stop lane with a trust store per authority: (role value, its own TrustView), one each.
    views: tuple[tuple[str, TrustView], ...] = field(default=(), repr=False)

    def for_authority(self, role: str) -> ChipEvidence:
        """The evidence as this authority's trust store judges it (itself when it has no view)."""
        view = dict(self.views).get(role)
        if view is None:
            return self
        return replace(self, passive=view.passive, chip_auth=view.chip_auth, pace_parameters=view.pace_parameters,
                       views=())

    @classmethod
    def failed(cls, status: ChipStatus, detail: str = "") -> ChipEvidence:
        return cls(status=status, detail=detail)

    @classmethod
    def from_read(cls, read: Any, passive: PaResult | None, dg1_check: Dg1Check | None) -> ChipEvidence:
        """`read` is an emrtd.reader.DocumentRead."""
        return cls(ChipStatus.READ, read.access.protocol.value, read.access.reason.name, passive,
                   dg1_check, read.active_auth, read.chip_auth)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value, "access_protocol": self.access_protocol,
            "access_reason": self.access_reason,
            "passive_auth": self.passive.to_json() if self.passive else None,
            "dg1_check": self.dg1_check.value if self.dg1_check else None,
            "active_auth": self.active_auth.to_json() if self.active_auth else None,
            "chip_auth": self.chip_auth.to_json() if self.chip_auth else None,
            "detail": self.detail,
            "pace_parameters": self.pace_parameters.to_json() if self.pace_parameters else None,
            "mrz_confirmed_by_chip": self.confirmed_mrz is not None,
        }


@dataclass(frozen=True)
class FaceEvidence:
    outcome: CaptureOutcome | None          # None: capture never finished (timeout, fault)
    score: float | None = None
    threshold: float | None = None
    model_version: str = ""
    pad: PadStatus = PadStatus.NOT_PERFORMED
    issues: tuple[QualityIssue, ...] = ()
    attempts: int = 0
    pad_score: float | None = None          # fused live probability of the deciding frame
    pad_skipped: str | None = None          # why PAD was not performed (PadSkipped value)

    @classmethod
    def from_capture(cls, result: CaptureResult, model_version: str) -> FaceEvidence:
        best = result.best
        pad = result.pad
        return cls(result.outcome, best.score if best else None, best.threshold if best else None,
                   model_version, pad.status, result.last_issues, result.attempts, pad.score,
                   pad.skipped.value if pad.skipped else None)

    @property
    def several_faces(self) -> bool:
        return QualityIssue.MULTIPLE_FACES in self.issues

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value if self.outcome else None,
                "score": None if self.score is None else round(self.score, 4),
                "threshold": self.threshold, "model_version": self.model_version,
                "pad": self.pad.value, "issues": [i.value for i in self.issues],
                "attempts": self.attempts,
                "pad_score": None if self.pad_score is None else round(self.pad_score, 4),
                "pad_skipped": self.pad_skipped}
