"""Errors of the decision policy layer."""
from firmware_app.errors import GateError


class PolicyError(GateError):
    """Base of the policy layer's errors."""


class AlertListUnavailable(PolicyError):
    """The alert lists could not be consulted (store missing, corrupt, locked, too old).

    The policy never treats this as "no hit": the traveller is referred to an officer.
    """


class AlertQueryInvalid(PolicyError):
    """A query to the alert lists is malformed (e.g. not a str where one is required)."""
