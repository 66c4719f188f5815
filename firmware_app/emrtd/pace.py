"""PACE v2 with generic mapping, ECDH or DH (ICAO 9303-11 section 4.4), injected randomness."""
from __future__ import annotations

import hmac

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.cipher import AesSuite, CipherKind, Des3Suite, suite_for
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import AuthenticationError, TlvError
from firmware_app.emrtd.keys import CanKey, KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.pace_groups import EcdhGroup, ModpGroup, group_for
from firmware_app.emrtd.pace_info import PaceInfo
from firmware_app.emrtd.session import Rng, Session
from firmware_app.emrtd.sm import SecureMessaging
from firmware_app.emrtd.tlv import encode_tlv, parse_single_tlv

SUPPORTED_PARAMETER_IDS = set(STANDARD_PARAMETERS)
PASSWORD_MRZ, PASSWORD_CAN = 0x01, 0x02
TAG_DYNAMIC_AUTH = 0x7C
TAG_PUBLIC_KEY = 0x7F49
CLA_CHAINING = 0x10


def password_reference(key: MrzKey | CanKey) -> int:
    return PASSWORD_MRZ if isinstance(key, MrzKey) else PASSWORD_CAN


def suite_of(algorithm: KeyAlgorithm) -> Des3Suite | AesSuite:
    return suite_for(CipherKind.DES3 if algorithm is KeyAlgorithm.DES3 else CipherKind.AES)


def perform_pace(session: Session, key: MrzKey | CanKey, info: PaceInfo, rng: Rng) -> AccessResult:
    """Run PACE and switch the session to secure messaging with the new session keys."""
    session.end_secure_messaging()
    suite = suite_of(info.algorithm)
    _set_authentication_template(session, info, password_reference(key))
    k_pi = kdf(key.pace_password(), KeyPurpose.PACE_PASSWORD, info.algorithm)
    nonce = _decrypt_nonce(suite, k_pi, _general_authenticate(session, 0x80, b"", 0x80, "PACE nonce"))
    group = _map_generator(session, group_for(info.parameter_id), int.from_bytes(nonce, "big"), rng)
    secret, pk_ifd, pk_ic = _key_agreement(session, group, rng)
    shared = group.shared_secret(secret, pk_ic)
    ks_enc, ks_mac = kdf(shared, KeyPurpose.ENC, info.algorithm), kdf(shared, KeyPurpose.MAC, info.algorithm)
    _exchange_tokens(session, suite, ks_mac, info.oid, group, pk_ifd, pk_ic)
    sm = SecureMessaging(suite, ks_enc, ks_mac, 0)
    session.start_secure_messaging(sm)
    return AccessResult(AccessProtocol.PACE, AccessReason.PACE_OFFERED, sm, info.describe())


def _decrypt_nonce(suite, k_pi: bytes, encrypted: bytes) -> bytes:
    # the chip chooses the length: only whole cipher blocks can be decrypted
    if len(encrypted) % suite.block_size:
        raise AuthenticationError("PACE", "encrypted nonce is not whole cipher blocks")
    return suite.decrypt(k_pi, encrypted)


def _set_authentication_template(session: Session, info: PaceInfo, password: int) -> None:
    data = encode_tlv(0x80, encode_oid(info.oid)) + encode_tlv(0x83, bytes([password]))
    data += encode_tlv(0x84, bytes([info.parameter_id]))
    response = session.send(CommandApdu(0x00, Ins.MSE, 0xC1, 0xA4, data), "PACE set AT")
    if not response.ok:
        raise AuthenticationError("PACE", f"MSE:Set AT refused (SW {response.sw:04X})")


def _general_authenticate(session: Session, tag: int, value: bytes, answer_tag: int, step: str,
                          last: bool = False) -> bytes:
    body = encode_tlv(TAG_DYNAMIC_AUTH, encode_tlv(tag, value) if value else b"")
    command = CommandApdu(0x00 if last else CLA_CHAINING, Ins.GENERAL_AUTHENTICATE, 0, 0, body, ne=256)
    response = session.send(command, step)
    if not response.ok:
        raise AuthenticationError("PACE", f"{step} refused (SW {response.sw:04X})")
    try:
        found = parse_single_tlv(response.data, max_depth=2, expected_tag=TAG_DYNAMIC_AUTH).find(answer_tag)
    except TlvError as exc:
        raise AuthenticationError("PACE", f"{step}: malformed answer ({exc})") from exc
    if found is None or not found.value:
        raise AuthenticationError("PACE", f"{step}: answer lacks tag {answer_tag:02X}")
    return found.value


def _map_generator(session: Session, group: EcdhGroup | ModpGroup, nonce: int, rng: Rng):
    secret = group.private_key(rng)
    peer = _general_authenticate(session, 0x81, group.public_key(secret), 0x82, "PACE map nonce")
    return group.mapped(nonce, secret, peer)


def _key_agreement(session: Session, group: EcdhGroup | ModpGroup, rng: Rng) -> tuple[int, bytes, bytes]:
    secret = group.private_key(rng)
    pk_ifd = group.public_key(secret)
    pk_ic = _general_authenticate(session, 0x83, pk_ifd, 0x84, "PACE key agreement")
    if hmac.compare_digest(pk_ic, pk_ifd):
        raise AuthenticationError("PACE", "chip echoed the terminal's public key")
    return secret, pk_ifd, pk_ic


def authentication_token(suite, ks_mac: bytes, oid: str, group, public: bytes) -> bytes:
    """T = MAC(KS_mac, 7F49 { 06 OID, 86/84 public key })."""
    data = encode_tlv(TAG_PUBLIC_KEY, encode_tlv(0x06, encode_oid(oid)) + group.public_key_object(public))
    return suite.token_mac(ks_mac, data)


def _exchange_tokens(session: Session, suite, ks_mac: bytes, oid: str, group, pk_ifd: bytes, pk_ic: bytes) -> None:
    token = authentication_token(suite, ks_mac, oid, group, pk_ic)
    chip_token = _general_authenticate(session, 0x85, token, 0x86, "PACE mutual authentication", last=True)
    if not hmac.compare_digest(chip_token, authentication_token(suite, ks_mac, oid, group, pk_ifd)):
        raise AuthenticationError("PACE", "chip authentication token does not verify")
