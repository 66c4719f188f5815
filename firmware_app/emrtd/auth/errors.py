"""Errors of active/chip authentication inputs: a branch of EmrtdError.

A signature that does not verify is a result (ChipCheckResult), not an error; these are for inputs
that make a check impossible (no usable key, unsupported algorithm, malformed chip key).
"""
from __future__ import annotations

from firmware_app.emrtd.errors import EmrtdError


class ChipCheckError(EmrtdError):
    """Base of AA/CA errors."""


class ChipAuthUnavailable(ChipCheckError):
    """DG14 offers no chip-authentication protocol/key pair this build can use."""


class BadChipKey(ChipCheckError):
    """The chip's public key (DG14/DG15) or its ephemeral answer is malformed or off the curve."""
