"""What access control ran and why (shared by BAC, PACE and the reader)."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from firmware_app.emrtd.pace_cam import CamData
from firmware_app.emrtd.sm import SecureMessaging


class AccessProtocol(enum.Enum):
    BAC = "BAC"
    PACE = "PACE"


class AccessReason(enum.Enum):
    PACE_OFFERED = "chip offers PACE in EF.CardAccess"
    NO_CARD_ACCESS = "no EF.CardAccess: chip offers BAC only"
    PACE_PARAMETERS_UNSUPPORTED = "PACE parameters not supported here: fell back to BAC"
    PACE_FAILED_FALLBACK = "PACE failed: fell back to BAC"
    REQUESTED = "protocol requested explicitly"


@dataclass(frozen=True)
class AccessResult:
    protocol: AccessProtocol
    reason: AccessReason
    sm: SecureMessaging
    detail: str = ""  # e.g. PACE OID name and parameter id; never key material
    cam: CamData | None = None  # PACE-CAM: what the chip-authentication check needs
