"""Presentation attack detection: a pluggable interface, and the honest default.

No detector ships: none has been shown to work on data here. Every result therefore says
`not_performed`, and the crossing record carries that, never an implied "live".
"""
from __future__ import annotations

from enum import Enum
from typing import Protocol

import numpy as np


class PadStatus(str, Enum):
    NOT_PERFORMED = "not_performed"
    BONA_FIDE = "bona_fide"
    ATTACK_SUSPECTED = "attack_suspected"


class PresentationAttackDetector(Protocol):
    def assess(self, frames: list[np.ndarray]) -> PadStatus: ...


class NoPresentationAttackDetection:
    """The default: states plainly that no PAD was done."""

    def assess(self, frames: list[np.ndarray]) -> PadStatus:
        return PadStatus.NOT_PERFORMED
