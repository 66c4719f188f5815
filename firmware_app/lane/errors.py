"""Errors of the lane layer."""
from firmware_app.errors import GateError


class LaneError(GateError):
    """Base of the lane's errors."""


class LaneJournalError(LaneError):
    """The transaction journal cannot be read or written: the lane goes out of service."""


class LaneNotRunning(LaneError):
    """An event was submitted to a runner that has not started or has stopped."""
