"""Errors of LDS parsing (data groups, EF.COM, EF.SOD): a branch of EmrtdError."""
from __future__ import annotations

from firmware_app.emrtd.errors import EmrtdError


class LdsError(EmrtdError):
    """Base of every LDS parsing error: which file, and why."""

    def __init__(self, file_name: str, reason: str):
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"{file_name}: {reason}")


class LdsFormatError(LdsError):
    """A file is malformed: wrong tag, bad length, missing element, garbage."""


class LdsUnsupported(LdsError):
    """A file is well formed but uses a format or algorithm this build does not handle."""
