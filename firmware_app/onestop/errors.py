"""Errors of the one-stop layer."""
from firmware_app.errors import GateError


class OnestopError(GateError):
    """Base of the one-stop layer's errors."""


class CommandNotPermitted(OnestopError):
    """An authority's command that would act on the other authority's control (refused, nacked)."""
