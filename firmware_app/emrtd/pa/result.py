"""Passive-authentication outcome: one reason code per failure, never a bare boolean."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class PaReason(Enum):
    SOD_MALFORMED = "SOD_MALFORMED"
    SOD_CONTENT_TYPE = "SOD_CONTENT_TYPE"  # encapsulated content under no known LDS security object OID
    DS_CERT_MISSING = "DS_CERT_MISSING"
    SIGNED_ATTRS_INVALID = "SIGNED_ATTRS_INVALID"
    SOD_SIGNATURE_INVALID = "SOD_SIGNATURE_INVALID"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    NO_TRUST_STORE = "NO_TRUST_STORE"
    DS_NOT_TRUSTED = "DS_NOT_TRUSTED"
    DS_KEY_USAGE = "DS_KEY_USAGE"  # keyUsage without digitalSignature, or an EKU excluding document signing
    DS_EXPIRED = "DS_EXPIRED"
    DS_NOT_YET_VALID = "DS_NOT_YET_VALID"
    CSCA_EXPIRED = "CSCA_EXPIRED"
    DS_REVOKED = "DS_REVOKED"
    DG_HASH_MISMATCH = "DG_HASH_MISMATCH"
    DG_NOT_IN_SOD = "DG_NOT_IN_SOD"


@dataclass(frozen=True)
class PaFailure:
    reason: PaReason
    data_group: int | None = None
    detail: str = ""

    def code(self) -> str:
        return f"{self.reason.value}(DG{self.data_group})" if self.data_group else self.reason.value


@dataclass(frozen=True)
class PaResult:
    signature_valid: bool
    hashes_valid: bool
    chain_valid: bool | None  # None: no trust store applied
    failures: tuple[PaFailure, ...] = ()
    checked_groups: tuple[int, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.signature_valid and self.hashes_valid and self.chain_valid is True and not self.failures

    @property
    def reasons(self) -> tuple[PaReason, ...]:
        return tuple(f.reason for f in self.failures)

    def has(self, reason: PaReason, data_group: int | None = None) -> bool:
        return any(f.reason is reason and data_group in (None, f.data_group) for f in self.failures)

    def to_json(self) -> dict:
        return {
            "result": "passed" if self.passed else "failed",
            "signature_valid": self.signature_valid,
            "hashes_valid": self.hashes_valid,
            "chain_valid": self.chain_valid,
            "reasons": [f.code() for f in self.failures],
            "checked_groups": [f"DG{n}" for n in self.checked_groups],
            "warnings": list(self.warnings),
        }
