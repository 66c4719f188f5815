"""Results of the anti-cloning checks: which check ran, whether it passed, and why not."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from firmware_app.emrtd.errors import LdsError, LdsUnsupported


class ChipCheck(Enum):
    ACTIVE_AUTHENTICATION = "AA"
    CHIP_AUTHENTICATION = "CA"
    CHIP_AUTHENTICATION_MAPPING = "CAM"  # PACE-CAM: takes chip authentication's place
    PACE_PARAMETERS = "PACE_PARAMETERS"  # EF.CardAccess (unsigned) equals the signed PACEInfos


class ChipCheckReason(Enum):
    PASSED = "PASSED"
    NOT_OFFERED = "NOT_OFFERED"  # the document has no DG15 / no CA info in DG14
    SIGNATURE_INVALID = "SIGNATURE_INVALID"  # AA: the chip's answer does not verify -> clone
    SM_FAILED_WITH_NEW_KEYS = "SM_FAILED_WITH_NEW_KEYS"  # CA: the chip cannot speak with the agreed keys
    CHIP_REFUSED = "CHIP_REFUSED"  # the chip answered the command with an error status
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    BAD_KEY = "BAD_KEY"
    KEY_NOT_AUTHENTIC = "KEY_NOT_AUTHENTIC"  # CAM: EF.CardSecurity's signature or DS chain does not verify
    NOT_VOUCHED = "NOT_VOUCHED"  # DG14/DG15 not the one the (trusted) SOD hashes: no maths run on it
    PARAMETERS_MISMATCH = "PARAMETERS_MISMATCH"  # EF.CardAccess differs from the signed PACEInfos


@dataclass(frozen=True)
class ChipCheckResult:
    check: ChipCheck
    performed: bool
    passed: bool
    reason: ChipCheckReason
    detail: str = ""

    @classmethod
    def ok(cls, check: ChipCheck) -> ChipCheckResult:
        return cls(check, True, True, ChipCheckReason.PASSED)

    @classmethod
    def failed(cls, check: ChipCheck, reason: ChipCheckReason, detail: str = "") -> ChipCheckResult:
        return cls(check, True, False, reason, detail)

    @classmethod
    def not_performed(cls, check: ChipCheck, reason: ChipCheckReason, detail: str = "") -> ChipCheckResult:
        return cls(check, False, False, reason, detail)

    def to_json(self) -> dict:
        return {"check": self.check.value, "performed": self.performed, "passed": self.passed,
                "reason": self.reason.value, "detail": self.detail}


def parse_for_checks(parse, data: bytes, check: ChipCheck):
    """Parse DG14/DG15 for a check; a malformed file makes the check fail (not the whole read)."""
    try:
        return parse(data), None
    except LdsError as exc:
        return None, ChipCheckResult.failed(check, _reason_for(exc), str(exc))


def _reason_for(error: LdsError) -> ChipCheckReason:
    """Decided by the error's type: well formed but not handled here, or malformed."""
    if isinstance(error, LdsUnsupported):
        return ChipCheckReason.UNSUPPORTED_ALGORITHM
    return ChipCheckReason.BAD_KEY
