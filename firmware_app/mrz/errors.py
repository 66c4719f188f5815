"""MRZ error tree. Only unreadable input raises; content problems are reported in the result."""
from __future__ import annotations

from ..errors import GateError


class MrzError(GateError):
    """Base of every error raised by the MRZ package."""


class MrzUnreadable(MrzError):
    """The input cannot be an MRZ at all: the lane treats it as a failed read."""


class MrzTooLarge(MrzUnreadable):
    """More input than any MRZ could hold (guards against megabytes from a broken reader)."""


class MrzBadCharset(MrzUnreadable):
    """A character outside the MRZ set (A-Z, 0-9, '<'): lower case, non-ASCII, control codes."""


class MrzWrongLength(MrzUnreadable):
    """The lines match no ICAO 9303 format (TD1 3x30, TD2/MRV-B 2x36, TD3/MRV-A 2x44)."""


class MrzComposeError(MrzError, ValueError):
    """Fields given to the composer cannot be written as a valid MRZ."""
