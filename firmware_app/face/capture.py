"""Capture loop: within a time budget, take frames, keep the best-quality face, verify.

Up to `attempts` comparisons, each on the best of up to `frames_per_attempt` usable frames; stops
at the first match. Frames without a usable face only spend budget and give the kiosk feedback.
No image is kept in the result (biometric data ends with the transaction).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from drivers.errors import DriverError

from .pad import PadResult, combine
from .quality import LIVE_LIMITS, QualityIssue

if TYPE_CHECKING:  # annotations only: the policy and the lane use this module's results without onnxruntime
    import numpy as np

    from .verifier import FaceSample, FaceVerifier, Inspection, VerificationResult


class CaptureOutcome(str, Enum):
    MATCH = "match"
    NO_MATCH = "no_match"               # attempts used up, every comparison below threshold
    NO_USABLE_FACE = "no_usable_face"   # budget spent without a frame passing the quality gate
    CAMERA_FAULT = "camera_fault"


class CapturedFrame(Protocol):
    """What a camera read gives (a drivers.camera Frame): the BGR image and any NIR/depth streams."""

    @property
    def image(self) -> np.ndarray: ...

    @property
    def extras(self) -> Any: ...


class FrameReader(Protocol):
    def read(self) -> CapturedFrame: ...


@dataclass(frozen=True)
class CaptureResult:
    outcome: CaptureOutcome
    best: VerificationResult | None
    attempts: int
    frames: int
    last_issues: tuple[QualityIssue, ...]
    pad: PadResult          # over every compared frame: any suspicion wins (pad.combine)
    detail: str = ""


@dataclass(frozen=True)
class CapturePlan:
    budget_s: float = 6.0
    attempts: int = 3
    frames_per_attempt: int = 3


class CaptureLoop:
    def __init__(self, verifier: FaceVerifier, camera: FrameReader, clock: Callable[[], float],
                 plan: CapturePlan = CapturePlan(), on_feedback: Callable[[tuple], None] | None = None,
                 on_compared: Callable[[Any, VerificationResult], None] | None = None):
        self.verifier, self.camera, self.clock, self.plan = verifier, camera, clock, plan
        self.on_feedback = on_feedback or (lambda issues: None)
        # each compared frame's image with its verdict (the officer console shows the best one)
        self.on_compared = on_compared or (lambda image, verdict: None)

    def run(self, reference: FaceSample) -> CaptureResult:
        deadline = self.clock() + self.plan.budget_s
        state = _State()
        while state.attempts < self.plan.attempts and self.clock() < deadline:
            try:
                best = self._best_frame(deadline, state)
            except DriverError as exc:
                return state.result(CaptureOutcome.CAMERA_FAULT, f"{type(exc).__name__}: {exc}")
            if best is None:
                continue
            inspection, frame = best
            state.attempts += 1
            verdict = self.verifier.compare(reference, self.verifier.sample(inspection))
            # PAD judges the very frame that was compared, so a match cannot come from another.
            state.pads.append(self.verifier.pad.assess(frame.image, inspection.face, frame.extras))
            if state.best is None or (verdict.score or -1) > (state.best.score or -1):
                state.best = verdict
            self.on_compared(frame.image, verdict)
            if verdict.match:
                return state.result(CaptureOutcome.MATCH)
        outcome = CaptureOutcome.NO_MATCH if state.attempts else CaptureOutcome.NO_USABLE_FACE
        return state.result(outcome)

    def _best_frame(self, deadline: float, state: _State) -> tuple[Inspection, CapturedFrame] | None:
        best: tuple[Inspection, CapturedFrame] | None = None
        usable = 0
        while usable < self.plan.frames_per_attempt and self.clock() < deadline:
            frame = self.camera.read()
            state.frames += 1
            inspection = self.verifier.inspect(frame.image, LIVE_LIMITS)
            if not inspection.quality.ok:
                state.last_issues = inspection.quality.issues
                self.on_feedback(inspection.quality.issues)
                continue
            usable += 1
            if best is None or inspection.quality.rank > best[0].quality.rank:
                best = (inspection, frame)
        return best


class _State:
    def __init__(self):
        self.attempts = 0
        self.frames = 0
        self.best: VerificationResult | None = None
        self.last_issues: tuple[QualityIssue, ...] = ()
        self.pads: list[PadResult] = []

    def result(self, outcome: CaptureOutcome, detail: str = "") -> CaptureResult:
        return CaptureResult(outcome, self.best, self.attempts, self.frames, self.last_issues,
                             combine(self.pads), detail)
