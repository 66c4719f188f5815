"""Access control: which protocol opens the chip (PACE or BAC), why, and what it left behind.

`choose_access` decides from EF.CardAccess before any authentication; BAC (bac.py) and PACE
(pace/protocol.py) both return an AccessResult carrying the secure-messaging session.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware_app.emrtd.errors import UnsupportedProtocol
from firmware_app.emrtd.keys import CanKey, MrzKey
from firmware_app.emrtd.pace.info import SUPPORTED_PARAMETER_IDS, PaceInfo, choose_pace_info
from firmware_app.emrtd.sm import SecureMessaging

if TYPE_CHECKING:  # pace.protocol imports this module: only the type is needed here
    from firmware_app.emrtd.pace.cam import CamData


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


def choose_access(key: MrzKey | CanKey, card_access: list[PaceInfo] | None,
                  prefer_pace: bool) -> tuple[PaceInfo | None, AccessReason]:
    """The PACE offer to run (None: BAC) and why. A CAN opens PACE only, so a chip without a usable
    PACE offer is UnsupportedProtocol for it; an MRZ key falls back to BAC."""
    if isinstance(key, CanKey) and not card_access:
        raise UnsupportedProtocol("a CAN opens PACE only, and this chip does not offer PACE")
    if not card_access or not prefer_pace:
        return None, AccessReason.NO_CARD_ACCESS if not card_access else AccessReason.REQUESTED
    try:
        return choose_pace_info(card_access, SUPPORTED_PARAMETER_IDS), AccessReason.PACE_OFFERED
    except UnsupportedProtocol:
        if isinstance(key, CanKey):
            raise
        return None, AccessReason.PACE_PARAMETERS_UNSUPPORTED
