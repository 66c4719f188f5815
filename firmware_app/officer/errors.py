"""Errors of the officer layer (console, reviews, audit). Credentials: credentials.py."""
from __future__ import annotations

from ..errors import GateError
from ..http_request import RequestRefused


class OfficerError(GateError):
    """Base of every officer-console error."""


class OfficerConsoleError(OfficerError):
    """The console cannot start as configured (certificate, key, address, credential file)."""


class OfficerAuditError(OfficerError):
    """The audit table cannot be written or read: no decision is taken without its audit row."""


class StaleReview(OfficerError):
    """A decision for a transaction the lane is no longer waiting for (ended, timed out, decided)."""


class Refused(OfficerError, RequestRefused):
    """An HTTP request the console refuses (status + a short reason, never echoing the request)."""
