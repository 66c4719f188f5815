"""PACE with Chip Authentication Mapping (ICAO 9303-11 sections 4.4.3.3.3 and 4.4.3.5), terminal side.

The mapping is generic mapping; after the tokens the chip adds its encrypted chip authentication data
A_IC = E(KS_enc, CA_IC) with CA_IC = SK_IC^-1 * SK_Map,IC mod n. The terminal decrypts it (AES-CBC,
IV = E(KS_enc, all-ones block), ISO/IEC 9797-1 padding method 2) and checks CA_IC * PK_IC = PK_Map,IC
as a whole point, with PK_IC taken from the signed EF.CardSecurity.
"""
from __future__ import annotations

from dataclasses import dataclass

from firmware_app.emrtd.cipher import AesSuite, unpad
from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.errors import CamError, SecureMessagingError

CAM_IV_INPUT = b"\xff" * 16  # "-1": the IV is E(KS_enc, -1)
MAX_CHIP_AUTH_DATA = 160  # CA_IC is one scalar (66 bytes on P-521) plus padding


@dataclass(frozen=True)
class CamData:
    """What PACE-CAM leaves for the chip-authentication check (public values only)."""
    curve: Curve
    pk_map_ic: bytes  # the chip's ephemeral mapping public key, as it sent it
    ca_ic: bytes | None  # decrypted chip authentication data; None: the chip sent none
    problem: str = ""  # why ca_ic is None

    def __repr__(self) -> str:
        return f"CamData(curve={self.curve.name}, has_ca_ic={self.ca_ic is not None})"


def decrypt_chip_auth_data(ks_enc: bytes, a_ic: bytes) -> bytes:
    """CA_IC from A_IC (8A): AES-CBC with IV = E(KS_enc, FF..FF), then padding method 2 removed."""
    if not a_ic or len(a_ic) > MAX_CHIP_AUTH_DATA or len(a_ic) % 16:
        raise CamError("encrypted chip authentication data is not whole AES blocks of a sane size")
    padded = AesSuite().decrypt(ks_enc, a_ic, CAM_IV_INPUT)  # AesSuite's IV is E(key, ssc)
    try:
        return unpad(padded)
    except SecureMessagingError as exc:
        raise CamError("chip authentication data is not padded with method 2") from exc


def cam_data(curve: Curve, pk_map_ic: bytes, ks_enc: bytes, a_ic: bytes | None) -> CamData:
    """Decrypt what the chip sent; a missing or undecryptable A_IC is kept as a problem to report
    (the session itself is sound: the tokens verified)."""
    if a_ic is None:
        return CamData(curve, pk_map_ic, None, "the chip sent no chip authentication data (8A)")
    try:
        return CamData(curve, pk_map_ic, decrypt_chip_auth_data(ks_enc, a_ic))
    except CamError as exc:
        return CamData(curve, pk_map_ic, None, str(exc))


def verify_chip_auth_data(cam: CamData, pk_ic: tuple[int, int]) -> None:
    """CA_IC * PK_IC must equal PK_Map,IC (both coordinates); CamError otherwise."""
    curve = cam.curve
    if cam.ca_ic is None:
        raise CamError(cam.problem or "no chip authentication data")
    if len(cam.ca_ic) > (curve.n.bit_length() + 7) // 8:
        raise CamError("chip authentication data is longer than the group order")
    scalar = int.from_bytes(cam.ca_ic, "big")
    if not 0 < scalar < curve.n:
        raise CamError("chip authentication data is not a scalar in [1, n-1]")
    try:
        mapping_key = ec.decode_point(curve, cam.pk_map_ic)
    except ec.InvalidPoint as exc:
        raise CamError(f"chip mapping key: {exc}") from exc
    if ec.multiply(curve, scalar, pk_ic) != mapping_key:
        raise CamError("CA_IC * PK_IC is not the chip's mapping key: the chip does not hold EF.CardSecurity's key")
