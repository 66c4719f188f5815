"""Presentation attack detection (PAD): is the face in front of the camera a live person?

Backends share one interface, `assess(image, face) -> PadResult`:
- `NoPresentationAttackDetection` states plainly that no PAD was done (`not_performed`, with why);
- `MiniFasPad` runs MiniVision's MiniFASNetV2 (crop 2.7x the face box) and MiniFASNetV1SE (4.0x),
  converted to ONNX at setup (models/minifasnet.py), and fuses them.

The models look at the medium around the face (paper edges, screen bezels, moire, colour casts),
so the wide crops need context: a face filling the frame leaves them nothing to see. Measured on
synthesised attacks (bench face_pad): the edges of a print or a screen are caught; a frame-filling
close-up print often passes. This is a first layer, not an evaluated ISO/IEC 30107-3 PAD.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from .detector import Face

if TYPE_CHECKING:  # annotations only: importing runtime loads onnxruntime
    from .runtime import ModelSession

CROP_SIZE = 80
LIVE_CLASS = 1   # upstream classes: 0 print attack, 1 live, 2 replay (screen) attack
MAX_SIDE = 8192  # a frame larger than this is not a camera frame: refuse rather than crop


class PadStatus(str, Enum):
    LIVE = "live"
    ATTACK_SUSPECTED = "attack_suspected"
    NOT_PERFORMED = "not_performed"


class PadSkipped(str, Enum):
    """Why a PAD result is `not_performed`."""
    DISABLED = "disabled"                 # configured off
    MODEL_UNAVAILABLE = "model_unavailable"
    NO_FACE = "no_face"                   # nothing to assess in this frame
    NO_FRAME = "no_frame"                 # the capture ended before a frame was compared


@dataclass(frozen=True)
class PadResult:
    status: PadStatus
    score: float | None = None            # fused live probability, 0..1
    threshold: float | None = None
    scores: tuple[float, ...] = field(default=())   # per model, in manifest order
    skipped: PadSkipped | None = None

    def as_dict(self) -> dict:
        return {"status": self.status.value,
                "score": None if self.score is None else round(self.score, 4),
                "threshold": self.threshold, "scores": [round(s, 4) for s in self.scores],
                "skipped": self.skipped.value if self.skipped else None}


def not_performed(why: PadSkipped) -> PadResult:
    return PadResult(PadStatus.NOT_PERFORMED, skipped=why)


class PresentationAttackDetector(Protocol):
    """`extras`: the camera's synchronised streams (drivers.camera ExtraStream -> plane) for a
    hardware PAD backend (NIR, depth); image-only backends ignore them."""
    available: bool

    def assess(self, image: np.ndarray | None, face: Face | None,
               extras: Mapping | None = None) -> PadResult: ...


class NoPresentationAttackDetection:
    """The honest default when PAD is off or its models are missing."""

    available = False

    def __init__(self, why: PadSkipped = PadSkipped.DISABLED):
        self.why = why

    def assess(self, image: np.ndarray | None, face: Face | None, extras: Mapping | None = None) -> PadResult:
        return not_performed(self.why)


def crop_box(frame_w: int, frame_h: int, box: tuple[float, float, float, float],
             scale: float) -> tuple[int, int, int, int]:
    """The face box scaled about its centre, shifted (not clipped) back inside the frame.

    Returns left, top, right, bottom (inclusive), as the models were trained: the scale is
    capped so the box fits, and a box over an edge is moved inwards, keeping its size.
    """
    x, y, w, h = (float(v) for v in box)
    w, h = max(w, 1.0), max(h, 1.0)
    scale = min((frame_h - 1) / h, (frame_w - 1) / w, scale)
    new_w, new_h = w * scale, h * scale
    cx, cy = x + w / 2, y + h / 2
    left, right = _shift_inside(cx - new_w / 2, cx + new_w / 2, frame_w - 1)
    top, bottom = _shift_inside(cy - new_h / 2, cy + new_h / 2, frame_h - 1)
    return int(left), int(top), int(right), int(bottom)


def _shift_inside(low: float, high: float, limit: float) -> tuple[float, float]:
    if low < 0:
        high, low = high - low, 0.0
    if high > limit:
        low, high = max(0.0, low - (high - limit)), limit
    return low, high


def pad_input(image: np.ndarray, face: Face, scale: float) -> np.ndarray:
    """One model's input: the scaled crop, 80x80 bilinear, BGR float 0-255, CHW."""
    left, top, right, bottom = crop_box(image.shape[1], image.shape[0], face.box, scale)
    patch = image[top:bottom + 1, left:right + 1]
    patch = cv2.resize(patch, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(patch.transpose(2, 0, 1), dtype=np.float32)


@dataclass(frozen=True)
class PadModel:
    name: str
    crop_scale: float
    session: ModelSession   # input (N,3,80,80), output `probabilities` (N,3)


class MiniFasPad:
    """MiniFASNet pair, fused by averaging their softmax outputs (as upstream sums them)."""

    available = True

    def __init__(self, models: list[PadModel], threshold: float):
        if not models:
            raise ValueError("MiniFasPad needs at least one model")
        self.models = models
        self.threshold = threshold

    def assess(self, image: np.ndarray | None, face: Face | None, extras: Mapping | None = None) -> PadResult:
        if image is None:
            return not_performed(PadSkipped.NO_FRAME)
        if face is None or image.ndim != 3 or max(image.shape[:2]) > MAX_SIDE:
            return not_performed(PadSkipped.NO_FACE)
        scores = tuple(self._live_probability(m, image, face) for m in self.models)
        fused = float(np.mean(scores))
        status = PadStatus.LIVE if fused >= self.threshold else PadStatus.ATTACK_SUSPECTED
        return PadResult(status, fused, self.threshold, scores)

    def _live_probability(self, model: PadModel, image: np.ndarray, face: Face) -> float:
        tensor = pad_input(image, face, model.crop_scale)[None]
        probabilities = model.session.run(tensor)["probabilities"][0]
        return float(probabilities[LIVE_CLASS])

    def warm_up(self) -> None:
        blank = np.zeros((CROP_SIZE, CROP_SIZE, 3), np.uint8)
        self.assess(blank, Face((20.0, 20.0, 40.0, 40.0), np.zeros((5, 2), np.float32), 1.0))


def combine(results: list[PadResult]) -> PadResult:
    """One verdict for a capture: any suspicion wins; live only if a frame was assessed live."""
    if not results:
        return not_performed(PadSkipped.NO_FRAME)
    attacks = [r for r in results if r.status is PadStatus.ATTACK_SUSPECTED]
    if attacks:
        return min(attacks, key=lambda r: r.score if r.score is not None else 0.0)
    live = [r for r in results if r.status is PadStatus.LIVE]
    return min(live, key=lambda r: r.score or 0.0) if live else results[-1]
