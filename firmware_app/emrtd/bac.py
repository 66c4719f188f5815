"""Basic Access Control (ICAO 9303-11 section 4.3) with injected randomness."""
from __future__ import annotations

import hmac

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.cipher import Des3Suite, pad
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.keys import KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.session import Rng, Session
from firmware_app.emrtd.sm import SecureMessaging

_SUITE = Des3Suite()


def perform_bac(session: Session, key: MrzKey, rng: Rng,
                reason: AccessReason = AccessReason.NO_CARD_ACCESS) -> AccessResult:
    """Run BAC and switch the session to secure messaging with the new session keys."""
    session.end_secure_messaging()
    seed = key.seed()
    k_enc, k_mac = kdf(seed, KeyPurpose.ENC, KeyAlgorithm.DES3), kdf(seed, KeyPurpose.MAC, KeyAlgorithm.DES3)
    rnd_ic = _get_challenge(session)
    rnd_ifd, k_ifd = rng(8), rng(16)
    cryptogram = _SUITE.encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    answer = _external_authenticate(session, cryptogram + _SUITE.mac(k_mac, pad(cryptogram, 8)))
    k_ic = _check_chip_answer(answer, k_enc, k_mac, rnd_ic, rnd_ifd)
    sm = session_keys_sm(bytes(a ^ b for a, b in zip(k_ifd, k_ic)), rnd_ic, rnd_ifd)
    session.start_secure_messaging(sm)
    return AccessResult(AccessProtocol.BAC, reason, sm, "BAC 3DES")


def session_keys_sm(seed: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureMessaging:
    ks_enc = kdf(seed, KeyPurpose.ENC, KeyAlgorithm.DES3)
    ks_mac = kdf(seed, KeyPurpose.MAC, KeyAlgorithm.DES3)
    ssc = int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")
    return SecureMessaging(_SUITE, ks_enc, ks_mac, ssc)


def _get_challenge(session: Session) -> bytes:
    response = session.send(CommandApdu(0x00, Ins.GET_CHALLENGE, 0, 0, ne=8), "BAC get challenge")
    if not response.ok or len(response.data) != 8:
        raise AuthenticationError("BAC", f"GET CHALLENGE failed (SW {response.sw:04X})")
    return response.data


def _external_authenticate(session: Session, data: bytes) -> bytes:
    command = CommandApdu(0x00, Ins.EXTERNAL_AUTHENTICATE, 0, 0, data, ne=40)
    response = session.send(command, "BAC external authenticate")
    if not response.ok:
        raise AuthenticationError("BAC", f"chip refused the MRZ key (SW {response.sw:04X})")
    if len(response.data) != 40:
        raise AuthenticationError("BAC", "chip answer has the wrong length")
    return response.data


def _check_chip_answer(answer: bytes, k_enc: bytes, k_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> bytes:
    cryptogram, mac = answer[:32], answer[32:]
    if not hmac.compare_digest(_SUITE.mac(k_mac, pad(cryptogram, 8)), mac):
        raise AuthenticationError("BAC", "chip cryptogram MAC does not verify")
    plain = _SUITE.decrypt(k_enc, cryptogram)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise AuthenticationError("BAC", "chip answer does not carry our challenge")
    return plain[16:32]
