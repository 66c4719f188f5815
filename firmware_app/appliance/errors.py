"""Errors of the assembly layer: which component could not be built, and why."""
from __future__ import annotations

from firmware_app.errors import GateError


class AssemblyError(GateError):
    """The appliance could not be assembled from its configuration."""


class ComponentUnavailable(AssemblyError):
    """One component could not be built; the lane runs out of service without it."""

    def __init__(self, component: str, reason: str):
        self.component, self.reason = component, reason
        super().__init__(f"{component}: {reason}")


class GateUnavailable(AssemblyError):
    """Even the gate driver could not be built: the app exits (the doors' own fail mode applies)."""


class OverrideRefused(GateError):
    """A BMIS door override this lane does not carry out (it would bypass the lane's safety rules)."""
