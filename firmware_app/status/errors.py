"""Errors of the status socket and the metrics file."""
from __future__ import annotations

from firmware_app.errors import GateError


class StatusError(GateError):
    """Base of the status errors."""


class StatusUnavailable(StatusError):
    """No running appliance answered on the socket (not started, another path, no permission)."""
