"""Errors of the face stage. Each one means: no biometric decision, doors stay shut, refer."""
from __future__ import annotations

from ..errors import GateError


class FaceError(GateError):
    """Base of the face stage's errors."""


class ModelUnavailable(FaceError):
    """A model file is missing, altered or unloadable: the service must not report ready."""


class ThresholdNotCalibrated(FaceError):
    """No decision threshold in the config or the model manifest: matching would be a guess."""


class ThresholdBelowCalibrated(FaceError):
    """A configured match threshold below the calibrated one: more false matches than measured."""


class ImageUnreadable(FaceError):
    """An image could not be decoded or is outside the accepted size bounds."""


class ReferenceUnusable(FaceError):
    """The reference (chip) portrait has no usable face; verification cannot be done."""

    def __init__(self, message: str, reasons: tuple = ()):
        self.reasons = reasons
        super().__init__(message)


class ThreadPoolConflict(FaceError):
    """The process-wide inference thread pool was already set up with another size."""


class AlignmentFailed(FaceError):
    """The landmarks do not define a similarity transform (degenerate points)."""


class EmbeddingFailed(FaceError):
    """The recognizer produced an unusable (zero or non-finite) embedding."""


class ImageRefused(ImageUnreadable):
    """The image header exceeds a limit (pixels, bytes, progressive scans): never decoded."""


class ImageDecodeAbandoned(ImageUnreadable):
    """Decoding took longer than its limit, or its caller gave up: the worker was stopped."""
