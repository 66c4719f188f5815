"""Errors of passive authentication and of the trust store: a branch of EmrtdError.

A failed check is not an error: it is a reason code in PaResult. These are for inputs that cannot
be evaluated at all (unsupported algorithms, unreadable trust-store files).
"""
from __future__ import annotations

from enum import Enum

from firmware_app.emrtd.errors import EmrtdError


class PaError(EmrtdError):
    """Base of passive-authentication errors."""


class UnsupportedAlgorithm(PaError):
    """A signature, hash or key algorithm (or curve) this build does not implement."""


class BadPublicKey(PaError):
    """A public key is malformed (point off the curve, absurd parameters)."""


class TrustStoreError(PaError):
    """A trust-store file or directory cannot be used."""


class MlRefusal(Enum):
    """Why a master list was refused."""

    MALFORMED = "ML_MALFORMED"
    NOT_SIGNED = "ML_NOT_SIGNED"
    SIGNATURE_INVALID = "ML_SIGNATURE_INVALID"
    SIGNER_NOT_PINNED = "ML_SIGNER_NOT_PINNED"  # signer chains to no configured root


class MasterListError(TrustStoreError):
    """An ICAO master list is malformed, its signature does not verify, or its signer is not pinned."""

    def __init__(self, message: str, reason: MlRefusal = MlRefusal.MALFORMED):
        self.reason = reason
        super().__init__(message)
