"""Early face capture: the traveller faces the camera while the chip is read.

The face stage starts once the chip is read: the comparison needs the chip portrait, which is
decoded only after passive authentication. The live side needs nothing from the chip, so while the
chip is read (most of that time the lane waits for the chip's answers) `capture_early` chooses the
first attempt's frame, embeds it and judges it for presentation attacks; the face stage then takes
the choice over (`take`). Once the chip portrait is decoded during the read (portrait_early.py), the
early capture also turns it into the comparison's reference (`reference_of`), so the face stage is
left with the comparison. A choice not finished when the chip is done is carried on by the face
stage, exactly as it would have begun.

Nothing here decides or answers the lane: an early capture that fails, is cancelled or is too old
is dropped and the face stage captures as before. The frames are biometric data: they live in the
transaction's `EarlyFrames`, held by the vault and discarded with the transaction.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from drivers.errors import DriverError
from firmware_app.face.capture import CaptureLoop, Selection

from .errors import StageCancelled

# The face stage drops an early choice begun longer ago than this (a slow chip read): the traveller's
# face is then captured afresh rather than compared from seconds before.
EARLY_MAX_AGE_S = 3.0
# The face stage waits at most this long for an early capture to stop between frames (it stops at
# the next frame; a camera read is bounded by the supervised camera anyway).
HANDOVER_WAIT_S = 1.0


class EarlyFrames:
    """One transaction's early choice. `handover` tells the early capture to stop; `done` says it did."""

    def __init__(self, started: float):
        self.selection = Selection()
        self.started = started
        self.handover = threading.Event()
        self.done = threading.Event()           # the live side
        self.referenced = threading.Event()     # the portrait's side (a reference or none)
        self.reference: tuple[np.ndarray, Any] | None = None    # (portrait, its FaceSample)

    @classmethod
    def taken(cls) -> EarlyFrames:
        """The face stage came first: an early capture that starts later finds it taken and stops."""
        slot = cls(0.0)
        for event in (slot.handover, slot.done, slot.referenced):
            event.set()
        return slot


def capture_early(loop: CaptureLoop, slot: EarlyFrames, deadline: float) -> None:
    """Choose the first attempt's frame until the choice is complete, the deadline, or the hand-over;
    a complete choice is embedded and PAD-judged at once. Camera faults and cancellation drop it."""
    try:
        loop.select(slot.selection, deadline, stop=slot.handover.is_set)
        if loop.complete(slot.selection) and not slot.handover.is_set():
            loop.prepare(slot.selection)
    except (DriverError, StageCancelled):
        slot.selection = Selection()        # the face stage meets the fault (or the end) itself
    finally:
        slot.done.set()


def take(slot: EarlyFrames | None, monotonic: Callable[[], float]) -> Selection | None:
    """Stop the early capture and take its choice over; None when there is none worth going on from."""
    if slot is None:
        return None
    slot.handover.set()
    if not slot.done.wait(HANDOVER_WAIT_S):
        return None
    selection = slot.selection
    if selection.frames == 0 or monotonic() - slot.started > EARLY_MAX_AGE_S:
        return None
    return selection


def reference_of(slot: EarlyFrames | None, portrait: np.ndarray) -> Any | None:
    """The early reference, if it was made from this very portrait (the one the chip stage kept)."""
    if slot is None or not slot.referenced.wait(HANDOVER_WAIT_S) or slot.reference is None:
        return None
    made_from, sample = slot.reference
    return sample if made_from is portrait else None
