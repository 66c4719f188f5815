"""PACE v2 (ICAO 9303-11 section 4.4) with generic, integrated and chip-authentication mapping, on
ECDH or DH, with injected randomness. IM's mapping is in im.py, CAM's chip data in cam.py.

A GENERAL AUTHENTICATE whose data does not fit a short APDU (a 2048-bit DH key: 264 bytes) goes as
ISO/IEC 7816-4 chained short APDUs when extended length is off (`send_chained`): every part but the
last carries CLA bit 0x10; the last keeps the command's own CLA (PACE's non-final steps already have
the bit, and the chip tells the parts apart by the incomplete 7C object). Long answers come back
through 61xx / GET RESPONSE, which the PC/SC transport handles.
"""
from __future__ import annotations

import hmac

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.apdu import SHORT_MAX_LC, CommandApdu, Ins, ResponseApdu
from firmware_app.emrtd.cipher import AesSuite, CipherKind, Des3Suite, suite_for
from firmware_app.emrtd.errors import AuthenticationError, TlvError
from firmware_app.emrtd.keys import CanKey, KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.pace.cam import cam_data
from firmware_app.emrtd.pace.groups import EcdhGroup, ModpGroup, group_for
from firmware_app.emrtd.pace.im import map_integrated, nonce_sizes
from firmware_app.emrtd.pace.info import INTEGRATED, Mapping, PaceInfo
from firmware_app.emrtd.session import Rng, Session
from firmware_app.emrtd.sm import SecureMessaging
from firmware_app.emrtd.tlv import Tlv, encode_tlv, parse_single_tlv

PASSWORD_MRZ, PASSWORD_CAN = 0x01, 0x02
TAG_DYNAMIC_AUTH = 0x7C
TAG_PUBLIC_KEY = 0x7F49
TAG_CHIP_AUTH_DATA = 0x8A


def password_reference(key: MrzKey | CanKey) -> int:
    return PASSWORD_MRZ if isinstance(key, MrzKey) else PASSWORD_CAN


def suite_of(algorithm: KeyAlgorithm) -> Des3Suite | AesSuite:
    return suite_for(CipherKind.DES3 if algorithm is KeyAlgorithm.DES3 else CipherKind.AES)


def perform_pace(session: Session, key: MrzKey | CanKey, info: PaceInfo, rng: Rng,
                 extended: bool = True) -> AccessResult:
    """Run PACE and switch the session to secure messaging with the new session keys.

    extended: False chains GENERAL AUTHENTICATE commands whose data exceed a short APDU."""
    session.end_secure_messaging()
    assert info.parameter_id is not None    # choose_pace_info offers standardized groups only
    suite = suite_of(info.algorithm)
    exchange = _Exchange(session, extended)
    _set_authentication_template(session, info, password_reference(key))
    k_pi = kdf(key.pace_password(), KeyPurpose.PACE_PASSWORD, info.algorithm)
    nonce = _decrypt_nonce(suite, k_pi, exchange.step(0x80, b"", 0x80, "PACE nonce"))
    base = group_for(info.parameter_id)
    group, pk_map_ic = _map(exchange, base, info, suite, nonce, rng)
    secret, pk_ifd, pk_ic = _key_agreement(exchange, group, rng)
    shared = group.shared_secret(secret, pk_ic)
    ks_enc, ks_mac = kdf(shared, KeyPurpose.ENC, info.algorithm), kdf(shared, KeyPurpose.MAC, info.algorithm)
    answer = _exchange_tokens(exchange, suite, ks_mac, info.oid, group, pk_ifd, pk_ic)
    cam = _cam(answer, base, pk_map_ic, ks_enc) if info.mapping is Mapping.ECDH_CAM else None
    sm = SecureMessaging(suite, ks_enc, ks_mac, 0)
    session.start_secure_messaging(sm)
    return AccessResult(AccessProtocol.PACE, AccessReason.PACE_OFFERED, sm, info.describe(), cam)


def _decrypt_nonce(suite, k_pi: bytes, encrypted: bytes) -> bytes:
    # the chip chooses the length: only whole cipher blocks can be decrypted
    if len(encrypted) % suite.block_size:
        raise AuthenticationError("PACE", "encrypted nonce is not whole cipher blocks")
    return suite.decrypt(k_pi, encrypted)


def _set_authentication_template(session: Session, info: PaceInfo, password: int) -> None:
    data = encode_tlv(0x80, encode_oid(info.oid)) + encode_tlv(0x83, bytes([password]))
    assert info.parameter_id is not None
    data += encode_tlv(0x84, bytes([info.parameter_id]))
    response = session.send(CommandApdu(0x00, Ins.MSE, 0xC1, 0xA4, data), "PACE set AT")
    if not response.ok:
        raise AuthenticationError("PACE", f"MSE:Set AT refused (SW {response.sw:04X})")


class _Exchange:
    """The chain of GENERAL AUTHENTICATE commands of one PACE run."""

    def __init__(self, session: Session, extended: bool):
        self.session, self.extended = session, extended

    def answer(self, tag: int, value: bytes, step: str, last: bool = False) -> Tlv:
        """Send 7C{tag value} and return the chip's 7C object."""
        body = encode_tlv(TAG_DYNAMIC_AUTH, encode_tlv(tag, value) if value else b"")
        command = CommandApdu(0x00 if last else CLA_CHAINING, Ins.GENERAL_AUTHENTICATE, 0, 0, body, ne=256)
        response = send_chained(self.session, command, step, self.extended)
        if not response.ok:
            raise AuthenticationError("PACE", f"{step} refused (SW {response.sw:04X})")
        try:
            return parse_single_tlv(response.data, max_depth=2, expected_tag=TAG_DYNAMIC_AUTH)
        except TlvError as exc:
            raise AuthenticationError("PACE", f"{step}: malformed answer ({exc})") from exc

    def step(self, tag: int, value: bytes, answer_tag: int, step: str, last: bool = False,
             may_be_empty: bool = False) -> bytes:
        found = self.answer(tag, value, step, last).find(answer_tag)
        if found is None or not (found.value or may_be_empty):
            raise AuthenticationError("PACE", f"{step}: answer lacks tag {answer_tag:02X}")
        return found.value


def _map(exchange: _Exchange, base: EcdhGroup | ModpGroup, info: PaceInfo, suite, nonce: bytes, rng: Rng):
    """The mapped group and the chip's mapping public key (empty for integrated mapping)."""
    if info.mapping in INTEGRATED:
        return _map_integrated(exchange, base, suite, info.algorithm, nonce, rng), b""
    return _map_generic(exchange, base, int.from_bytes(nonce, "big"), rng)


def _cam(answer: Tlv, base: EcdhGroup | ModpGroup, pk_map_ic: bytes, ks_enc: bytes):
    assert isinstance(base, EcdhGroup)      # CAM is an ECDH mapping
    a_ic = answer.find(TAG_CHIP_AUTH_DATA)
    return cam_data(base.curve, pk_map_ic, ks_enc, a_ic.value if a_ic is not None else None)


def _map_generic(exchange: _Exchange, group: EcdhGroup | ModpGroup, nonce: int, rng: Rng):
    """Generic mapping (and CAM's): returns the mapped group and the chip's mapping public key."""
    secret = group.private_key(rng)
    peer = exchange.step(0x81, group.public_key(secret), 0x82, "PACE map nonce")
    return group.mapped(nonce, secret, peer), peer


def _map_integrated(exchange: _Exchange, group: EcdhGroup | ModpGroup, suite, algorithm: KeyAlgorithm,
                    nonce: bytes, rng: Rng):
    """Integrated mapping: the terminal's nonce t goes to the chip in clear; its 82 answer is empty."""
    t = rng(nonce_sizes(algorithm)[1])
    exchange.step(0x81, t, 0x82, "PACE map nonce", may_be_empty=True)
    return map_integrated(group, suite, algorithm, nonce, t)


def _key_agreement(exchange: _Exchange, group: EcdhGroup | ModpGroup, rng: Rng) -> tuple[int, bytes, bytes]:
    secret = group.private_key(rng)
    pk_ifd = group.public_key(secret)
    pk_ic = exchange.step(0x83, pk_ifd, 0x84, "PACE key agreement")
    if hmac.compare_digest(pk_ic, pk_ifd):
        raise AuthenticationError("PACE", "chip echoed the terminal's public key")
    return secret, pk_ifd, pk_ic


def authentication_token(suite, ks_mac: bytes, oid: str, group, public: bytes) -> bytes:
    """T = MAC(KS_mac, 7F49 { 06 OID, 86/84 public key })."""
    data = encode_tlv(TAG_PUBLIC_KEY, encode_tlv(0x06, encode_oid(oid)) + group.public_key_object(public))
    return suite.token_mac(ks_mac, data)


def _exchange_tokens(exchange: _Exchange, suite, ks_mac: bytes, oid: str, group, pk_ifd: bytes,
                     pk_ic: bytes) -> Tlv:
    """T_IFD over the chip's key, T_IC checked over ours; returns the chip's last 7C (CAM adds 8A)."""
    token = authentication_token(suite, ks_mac, oid, group, pk_ic)
    answer = exchange.answer(0x85, token, "PACE mutual authentication", last=True)
    chip_token = answer.find(0x86)
    if chip_token is None or not chip_token.value:
        raise AuthenticationError("PACE", "PACE mutual authentication: answer lacks tag 86")
    if not hmac.compare_digest(chip_token.value, authentication_token(suite, ks_mac, oid, group, pk_ifd)):
        raise AuthenticationError("PACE", "chip authentication token does not verify")
    return answer


CLA_CHAINING = 0x10
MAX_PARTS = 16  # 16 x 255 bytes: far above any PACE or CA public key


def send_chained(session: Session, command: CommandApdu, step: str, extended: bool) -> ResponseApdu:
    """Send `command`, split into chained short APDUs when its data needs it and extended length is off."""
    if extended or len(command.data) <= SHORT_MAX_LC:
        return session.send(command, step)
    parts = [command.data[i:i + SHORT_MAX_LC] for i in range(0, len(command.data), SHORT_MAX_LC)]
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{step}: {len(command.data)} bytes of command data is too long to chain")
    for index, part in enumerate(parts[:-1]):
        chained = CommandApdu(command.cla | CLA_CHAINING, command.ins, command.p1, command.p2, part)
        response = session.send(chained, f"{step} (part {index + 1}/{len(parts)})")
        if not response.ok:
            return response  # the chip refused a part: the caller reports its status word
    last = CommandApdu(command.cla, command.ins, command.p1, command.p2, parts[-1], min(command.ne, 256))
    return session.send(last, step)
