"""Capture loop: within a time budget, take frames, keep the best-quality face, verify.

Up to `attempts` comparisons, each on the best of up to `frames_per_attempt` usable frames; stops
at the first match. Frames without a usable face only spend budget and give the kiosk feedback.
No image is kept in the result (biometric data ends with the transaction).

The first attempt's choice of frame may begin early, while the chip is read (the traveller faces
the camera with the document on the reader): `select` fills a `Selection`, `prepare` embeds and
PAD-judges its chosen frame, and `run(reference, first=...)` continues from it.
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


@dataclass(repr=False)        # holds live frames: kept out of logs and tracebacks
class Selection:
    """One attempt's choice of frame: the best usable frame so far and, once `prepare`d, its
    embedding and PAD verdict (PAD judges the very frame that is compared)."""
    best: tuple[Inspection, CapturedFrame] | None = None
    usable: int = 0
    frames: int = 0
    issues: tuple[QualityIssue, ...] = ()
    sample: FaceSample | None = None
    pad: PadResult | None = None


class CaptureLoop:
    def __init__(self, verifier: FaceVerifier, camera: FrameReader, clock: Callable[[], float],
                 plan: CapturePlan = CapturePlan(), on_feedback: Callable[[tuple], None] | None = None,
                 on_compared: Callable[[Any, VerificationResult], None] | None = None):
        self.verifier, self.camera, self.clock, self.plan = verifier, camera, clock, plan
        self.on_feedback = on_feedback or (lambda issues: None)
        # each compared frame's image with its verdict (the officer console shows the best one)
        self.on_compared = on_compared or (lambda image, verdict: None)

    def run(self, reference: FaceSample, first: Selection | None = None) -> CaptureResult:
        """`first`: the first attempt's choice, begun before (it goes on from there)."""
        deadline = self.clock() + self.plan.budget_s
        state = _State()
        selection = first or Selection()
        while state.attempts < self.plan.attempts and self.clock() < deadline:
            try:
                self.select(selection, deadline)
            except DriverError as exc:
                state.add(selection)
                return state.result(CaptureOutcome.CAMERA_FAULT, f"{type(exc).__name__}: {exc}")
            if selection.best is None:
                continue
            state.add(selection)
            state.attempts += 1
            verdict = self._judge(reference, selection, state)
            selection = Selection()
            if verdict.match:
                return state.result(CaptureOutcome.MATCH)
        state.add(selection)
        outcome = CaptureOutcome.NO_MATCH if state.attempts else CaptureOutcome.NO_USABLE_FACE
        return state.result(outcome)

    def _judge(self, reference: FaceSample, selection: Selection, state: _State) -> VerificationResult:
        self.prepare(selection)
        assert selection.best is not None and selection.sample is not None and selection.pad is not None
        verdict = self.verifier.compare(reference, selection.sample)
        state.pads.append(selection.pad)
        if state.best is None or (verdict.score or -1) > (state.best.score or -1):
            state.best = verdict
        self.on_compared(selection.best[1].image, verdict)
        return verdict

    def prepare(self, selection: Selection) -> None:
        """Embed the chosen frame and judge it for presentation attacks (once)."""
        if selection.best is None or selection.sample is not None:
            return
        inspection, frame = selection.best
        selection.sample = self.verifier.sample(inspection)
        selection.pad = self.verifier.pad.assess(frame.image, inspection.face, frame.extras)

    def complete(self, selection: Selection) -> bool:
        return selection.usable >= self.plan.frames_per_attempt

    def select(self, selection: Selection, deadline: float, stop: Callable[[], bool] = lambda: False) -> None:
        """Read frames into the selection until it has its usable frames, the deadline or `stop()`."""
        while not self.complete(selection) and self.clock() < deadline and not stop():
            frame = self.camera.read()
            selection.frames += 1
            inspection = self.verifier.inspect(frame.image, LIVE_LIMITS)
            if not inspection.quality.ok:
                selection.issues = inspection.quality.issues
                self.on_feedback(inspection.quality.issues)
                continue
            selection.usable += 1
            if selection.best is None or inspection.quality.rank > selection.best[0].quality.rank:
                selection.best = (inspection, frame)


class _State:
    def __init__(self):
        self.attempts = 0
        self.frames = 0
        self.best: VerificationResult | None = None
        self.last_issues: tuple[QualityIssue, ...] = ()
        self.pads: list[PadResult] = []

    def add(self, selection: Selection) -> None:
        """Count an attempt's frames (once: its selection is replaced after)."""
        self.frames += selection.frames
        self.last_issues = selection.issues or self.last_issues
        selection.frames, selection.issues = 0, ()

    def result(self, outcome: CaptureOutcome, detail: str = "") -> CaptureResult:
        return CaptureResult(outcome, self.best, self.attempts, self.frames, self.last_issues,
                             combine(self.pads), detail)
