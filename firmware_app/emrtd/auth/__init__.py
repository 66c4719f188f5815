"""Anti-cloning checks: active authentication verification and chip-authentication key agreement."""
from firmware_app.emrtd.auth.aa import verify_active_authentication
from firmware_app.emrtd.auth.ca import CaSessionKeys, CaSetup, EphemeralKey, agree, choose_chip_auth
from firmware_app.emrtd.auth.errors import BadChipKey, ChipAuthUnavailable, ChipCheckError
from firmware_app.emrtd.auth.result import ChipCheck, ChipCheckReason, ChipCheckResult

__all__ = [
    "BadChipKey", "CaSessionKeys", "CaSetup", "ChipAuthUnavailable", "ChipCheck", "ChipCheckError",
    "ChipCheckReason", "ChipCheckResult", "EphemeralKey", "agree", "choose_chip_auth",
    "verify_active_authentication",
]
