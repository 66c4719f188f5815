"""Errors of the kiosk layer (traveller screens)."""
from __future__ import annotations

from ..errors import GateError
from ..http_request import RequestRefused


class KioskError(GateError):
    """Base of every kiosk error."""


class InvalidView(KioskError, ValueError):
    """A KioskView whose fields are out of range or unknown (a bug in the caller, never shown)."""


class KioskConfigError(KioskError):
    """The kiosk cannot start as configured (missing translation, address not loopback...)."""


class RequestRejected(KioskError, RequestRefused):
    """A request to the kiosk server that is refused (not loopback, too big, malformed)."""
