"""The reader's side of the anti-cloning checks: the APDUs of active authentication (INTERNAL
AUTHENTICATE) and chip authentication v1 (MSE:Set KAT for 3DES, MSE:Set AT + GENERAL AUTHENTICATE
for AES), then secure messaging restarted with the agreed keys. The math is in emrtd.auth.
"""
from __future__ import annotations

from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.auth import (
    ChipAuthUnavailable, ChipCheck, ChipCheckError, ChipCheckReason, ChipCheckResult, agree, choose_chip_auth,
    verify_active_authentication,
)
from firmware_app.emrtd.auth.ca import CaSetup
from firmware_app.emrtd.cipher import CipherKind, suite_for
from firmware_app.emrtd.errors import SecureMessagingError, TlvError
from firmware_app.emrtd.keys import KeyAlgorithm
from firmware_app.emrtd.lds import Dg14, Dg15, LdsError, LdsUnsupported
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.session import Rng, Session
from firmware_app.emrtd.sm import SecureMessaging
from firmware_app.emrtd.tlv import encode_tlv

AA, CA = ChipCheck.ACTIVE_AUTHENTICATION, ChipCheck.CHIP_AUTHENTICATION
AA_CHALLENGE_SIZE = 8


def perform_active_authentication(session: Session, dg15: Dg15, dg14: Dg14 | None, rng: Rng,
                                  extended: bool) -> ChipCheckResult:
    challenge = rng(AA_CHALLENGE_SIZE)
    # an RSA-2048 answer (256 bytes) only fits a protected response with extended length
    command = CommandApdu(0x00, Ins.INTERNAL_AUTHENTICATE, 0, 0, challenge, ne=65536 if extended else 256)
    try:
        response = session.send(command, "active authentication")
    except SecureMessagingError as exc:  # e.g. a plain '9000': unauthenticated, SM is gone
        return ChipCheckResult.failed(AA, ChipCheckReason.CHIP_REFUSED, str(exc))
    if not response.ok or not response.data:
        return ChipCheckResult.failed(AA, ChipCheckReason.CHIP_REFUSED, f"SW {response.sw:04X}")
    return verify_active_authentication(dg15, challenge, response.data, dg14)


def perform_chip_authentication(session: Session, dg14: Dg14, rng: Rng) -> ChipCheckResult:
    """Run CA; on success the session continues under the new keys (a clone cannot follow)."""
    try:
        setup = choose_chip_auth(dg14)
        ephemeral, keys = agree(setup, rng)
    except ChipAuthUnavailable as exc:
        return ChipCheckResult.not_performed(CA, ChipCheckReason.NOT_OFFERED, str(exc))
    except ChipCheckError as exc:
        return ChipCheckResult.failed(CA, ChipCheckReason.BAD_KEY, str(exc))
    try:
        refused = _send_key(session, setup, ephemeral.public)
    except SecureMessagingError as exc:  # the reader re-authenticates after CHIP_REFUSED
        return ChipCheckResult.failed(CA, ChipCheckReason.CHIP_REFUSED, str(exc))
    if refused is not None:
        return ChipCheckResult.failed(CA, ChipCheckReason.CHIP_REFUSED, f"SW {refused:04X}")
    kind = CipherKind.DES3 if keys.algorithm is KeyAlgorithm.DES3 else CipherKind.AES
    session.start_secure_messaging(SecureMessaging(suite_for(kind), keys.ks_enc, keys.ks_mac, 0))
    return ChipCheckResult.ok(CA)


def _send_key(session: Session, setup: CaSetup, public: bytes) -> int | None:
    key_id = encode_tlv(0x84, _key_id_bytes(setup.info.key_id)) if setup.info.key_id is not None else b""
    if setup.algorithm is KeyAlgorithm.DES3:
        response = session.send(CommandApdu(0x00, Ins.MSE, 0x41, 0xA6, encode_tlv(0x91, public) + key_id),
                                "chip authentication set KAT")
        return None if response.ok else response.sw
    data = encode_tlv(0x80, encode_oid(setup.info.protocol)) + key_id
    response = session.send(CommandApdu(0x00, Ins.MSE, 0x41, 0xA4, data), "chip authentication set AT")
    if not response.ok:
        return response.sw
    body = encode_tlv(0x7C, encode_tlv(0x80, public))
    response = session.send(CommandApdu(0x00, Ins.GENERAL_AUTHENTICATE, 0, 0, body, ne=256),
                            "chip authentication key agreement")
    return None if response.ok else response.sw


def _key_id_bytes(key_id: int) -> bytes:
    return key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big")


def confirm_new_keys(result: ChipCheckResult, error: Exception | None) -> ChipCheckResult:
    """CA passes only if the first exchange under the new keys verified."""
    if result.passed and isinstance(error, (SecureMessagingError, TlvError)):
        return ChipCheckResult.failed(CA, ChipCheckReason.SM_FAILED_WITH_NEW_KEYS, str(error))
    return result


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
