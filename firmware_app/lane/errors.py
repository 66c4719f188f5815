"""Errors of the lane layer (all of them: the stages' too)."""
from firmware_app.errors import GateError


class LaneError(GateError):
    """Base of the lane's errors."""


class LaneJournalError(LaneError):
    """The transaction journal cannot be read or written: the lane goes out of service."""


class LaneNotRunning(LaneError):
    """An event was submitted to a runner that has not started or has stopped."""


class PortraitMissing(LaneError):
    """The face stage found no usable chip portrait for its transaction."""


class StageCancelled(LaneError):
    """The transaction ended while its stage was still running (its answer would be dropped)."""
