"""ICAO 9303-11 standardized domain parameter ids (PACE, EF.CardAccess / DG14 parameterId)."""
from __future__ import annotations

from firmware_app.emrtd.crypto.curves import NAMED_CURVES, Curve
from firmware_app.emrtd.crypto.dh import RFC5114_1, RFC5114_2, RFC5114_3, DhGroup

_CURVE_IDS = {
    8: "secp192r1", 9: "brainpoolP192r1", 10: "secp224r1", 11: "brainpoolP224r1", 12: "secp256r1",
    13: "brainpoolP256r1", 14: "brainpoolP320r1", 15: "secp384r1", 16: "brainpoolP384r1",
    17: "brainpoolP512r1", 18: "secp521r1",
}

# ids 3-7 and 19-31 are reserved for future use
STANDARD_PARAMETERS: dict[int, Curve | DhGroup] = {
    0: RFC5114_1, 1: RFC5114_2, 2: RFC5114_3,
    **{parameter_id: NAMED_CURVES[name] for parameter_id, name in _CURVE_IDS.items()},
}
