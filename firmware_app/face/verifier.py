"""1:1 verification: chip portrait against a live image. Built once, warmed up, then reused."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import numpy as np

from .align import align_face
from .detector import Face, YuNetDetector
from .embedder import SFaceEmbedder, cosine_score
from .errors import ModelUnavailable, ReferenceUnusable, ThresholdBelowCalibrated, ThresholdNotCalibrated
from .models import Manifest, load_manifest, read_verified
from .pad import (
    MiniFasPad,
    NoPresentationAttackDetection,
    PadModel,
    PadResult,
    PadSkipped,
    PadStatus,
    PresentationAttackDetector,
    not_performed,
)
from .quality import LIVE_LIMITS, REFERENCE_LIMITS, QualityLimits, QualityReport, assess, primary_face
from .runtime import open_session

_LOG = logging.getLogger(__name__)


class Decision(str, Enum):
    MATCH = "match"
    NO_MATCH = "no_match"
    QUALITY_REFUSED = "quality_refused"   # no score was trusted: ask again or refer


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True)
class Inspection:
    face: Face | None
    aligned: np.ndarray | None = field(repr=False)
    quality: QualityReport


@dataclass(frozen=True)
class FaceSample:
    """One analysed image: its main face, quality and (when quality allows) its embedding."""
    face: Face | None
    quality: QualityReport
    embedding: np.ndarray | None = field(repr=False)


@dataclass(frozen=True)
class VerificationResult:
    decision: Decision
    score: float | None
    threshold: float
    quality: QualityReport
    reference_quality: QualityReport
    pad_result: PadResult = not_performed(PadSkipped.DISABLED)

    @property
    def pad(self) -> PadStatus:
        return self.pad_result.status

    @property
    def match(self) -> bool:
        return self.decision is Decision.MATCH

    def as_dict(self) -> dict:
        return {"decision": self.decision.value, "match": self.match,
                "score": None if self.score is None else round(self.score, 4),
                "threshold": self.threshold, "quality": self.quality.as_dict(),
                "reference_quality": self.reference_quality.as_dict(), "pad": self.pad.value,
                "pad_detail": self.pad_result.as_dict()}


class FaceVerifier:
    def __init__(self, detector: YuNetDetector, embedder: SFaceEmbedder, threshold: float,
                 pad: PresentationAttackDetector | None = None):
        self.detector = detector
        self.embedder = embedder
        self.threshold = threshold
        self.pad = pad or NoPresentationAttackDetection()

    def inspect(self, image: np.ndarray, limits: QualityLimits) -> Inspection:
        """Detect, align and judge quality; no embedding yet (the capture loop embeds only the best)."""
        faces = self.detector.detect(image)
        main = primary_face(faces)
        aligned = align_face(image, main) if main is not None else None
        return Inspection(main, aligned, assess(faces, image.shape, aligned, limits))

    def sample(self, inspection: Inspection, embed_always: bool = False) -> FaceSample:
        aligned = inspection.aligned
        wanted = aligned is not None and (inspection.quality.ok or embed_always)
        embedding = self.embedder.embed(aligned) if wanted and aligned is not None else None
        return FaceSample(inspection.face, inspection.quality, embedding)

    def analyse(self, image: np.ndarray, limits: QualityLimits, embed_always: bool = False) -> FaceSample:
        """Embed only when quality passed (or when asked, for evaluation)."""
        return self.sample(self.inspect(image, limits), embed_always)

    def reference(self, portrait: np.ndarray) -> FaceSample:
        sample = self.analyse(portrait, REFERENCE_LIMITS)
        if sample.embedding is None:
            issues = ", ".join(issue.value for issue in sample.quality.issues)
            raise ReferenceUnusable(f"reference portrait unusable: {issues}", sample.quality.issues)
        return sample

    def compare(self, reference: FaceSample, live: FaceSample) -> VerificationResult:
        if live.embedding is None:
            return VerificationResult(Decision.QUALITY_REFUSED, None, self.threshold, live.quality, reference.quality)
        assert reference.embedding is not None      # reference() refuses a portrait without one
        score = cosine_score(reference.embedding, live.embedding)
        decision = Decision.MATCH if score >= self.threshold else Decision.NO_MATCH
        return VerificationResult(decision, score, self.threshold, live.quality, reference.quality)

    def verify(self, portrait: np.ndarray, live_image: np.ndarray) -> VerificationResult:
        inspection = self.inspect(live_image, LIVE_LIMITS)
        result = self.compare(self.reference(portrait), self.sample(inspection))
        return replace(result, pad_result=self.pad.assess(live_image, inspection.face))

    def assess_presentation(self, image: np.ndarray) -> tuple[PadResult, Inspection]:
        """PAD on the main face of one image (the quality gate's verdict comes with it)."""
        inspection = self.inspect(image, LIVE_LIMITS)
        return self.pad.assess(image, inspection.face), inspection

    def warm_up(self) -> None:
        """Run both models once so the first traveller does not pay for lazy initialisation."""
        for height, width in ((480, 640), (self.detector.height, self.detector.width)):  # camera, stills
            self.detector.detect(np.zeros((height, width, 3), np.uint8))
        self.embedder.embed(np.zeros((112, 112, 3), np.uint8))


def resolve_threshold(configured: float | None, manifest_threshold: float | None) -> float:
    threshold = configured if configured is not None else manifest_threshold
    if threshold is None:
        raise ThresholdNotCalibrated("no face threshold in config or models/manifest.json")
    return float(threshold)


@dataclass(frozen=True)
class PadSettings:
    """The config's [face.pad] as the face stage needs it (the face module imports no config)."""
    enabled: bool = True
    required: bool = False
    live_threshold: float | None = None


def build_pad(manifest: Manifest, threads: int, shared_pool: bool,
              settings: PadSettings) -> PresentationAttackDetector:
    """MiniFASNet pair, hash-checked; without its models PAD is `not_performed` unless required."""
    if not settings.enabled:
        return NoPresentationAttackDetection(PadSkipped.DISABLED)
    try:
        models = [PadModel(entry.file.role, entry.crop_scale,
                           open_session(read_verified(entry.file), threads, shared_pool))
                  for entry in manifest.pad_models()]
    except ModelUnavailable as exc:
        if settings.required:
            raise ModelUnavailable(f"PAD is required but unavailable: {exc}") from None
        _LOG.warning("presentation attack detection UNAVAILABLE (%s): crossings record pad=not_performed", exc)
        return NoPresentationAttackDetection(PadSkipped.MODEL_UNAVAILABLE)
    threshold = settings.live_threshold or manifest.pad_threshold()
    if threshold is None:
        raise ThresholdNotCalibrated("no PAD live threshold in config or models/manifest.json")
    pad = MiniFasPad(models, float(threshold))
    pad.warm_up()
    return pad


def build_verifier(models_dir: str | Path, threads: int = 2, threshold: float | None = None,
                   shared_pool: bool = True, pad: PadSettings = PadSettings()) -> FaceVerifier:
    """Load and hash-check the models, open them on the shared pool and warm them up."""
    manifest = load_manifest(models_dir)
    detector = YuNetDetector(open_session(read_verified(manifest.model_file("detector")), threads, shared_pool))
    embedder = SFaceEmbedder(open_session(read_verified(manifest.model_file("recognizer")), threads, shared_pool))
    verifier = FaceVerifier(detector, embedder, resolve_threshold(threshold, manifest.threshold()[0]),
                            build_pad(manifest, threads, shared_pool, pad))
    verifier.warm_up()
    return verifier


def check_configured_threshold(configured: float | None, manifest: Manifest) -> None:
    """A configured threshold may be stricter than the calibrated one, never looser."""
    calibrated, fmr = manifest.threshold()
    if configured is not None and calibrated is not None and configured < calibrated:
        raise ThresholdBelowCalibrated(
            f"face.threshold {configured} is below the calibrated {calibrated} (FMR {fmr} in "
            f"{manifest.directory / 'manifest.json'}): it would accept more impostors than measured")


def pad_settings(face) -> PadSettings:
    return PadSettings(face.pad.enabled, face.pad.required, face.pad.live_threshold)


def verifier_from_config(face, base_dir: str | Path = ".") -> FaceVerifier:
    """Build from the config's [face] section; a relative models_dir is taken from base_dir."""
    models_dir = Path(face.models_dir)
    if not models_dir.is_absolute():
        models_dir = Path(base_dir) / models_dir
    check_configured_threshold(face.threshold, load_manifest(models_dir))
    return build_verifier(models_dir, face.threads, face.threshold, pad=pad_settings(face))
