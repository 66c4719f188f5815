"""Active authentication (ICAO 9303-11 6.1): INTERNAL AUTHENTICATE with a fresh challenge, and the
verification of the chip's answer. The chip signs the challenge with the private key matching DG15.
RSA keys use ISO/IEC 9796-2 digital signature scheme 1 (partial message recovery); EC keys use
ECDSA with the plain r||s format (BSI TR-03111), the hash named by DG14's ActiveAuthenticationInfo.
"""
from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.crypto.curves import NAMED_CURVES
from firmware_app.emrtd.crypto.ecdsa import ecdsa_verify
from firmware_app.emrtd.errors import PaError, SecureMessagingError
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.dg14 import Dg14
from firmware_app.emrtd.lds.dg15 import Dg15
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, load_public_key
from firmware_app.emrtd.pa.signature import digest, hash_algorithm
from firmware_app.emrtd.session import Rng, Session

AA = ChipCheck.ACTIVE_AUTHENTICATION
AA_CHALLENGE_SIZE = 8
# ISO/IEC 10118-3 hash identifiers used in the two-byte 9796-2 trailer (xx CC)
TRAILER_HASHES = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}
IMPLICIT_SHA1_TRAILER = 0xBC
PARTIAL_RECOVERY_HEADER = 0x6A
PLAIN_ECDSA_HASHES = {f"{asn1.ECDSA_PLAIN}.{i}": name
                      for i, name in enumerate(("sha1", "sha224", "sha256", "sha384", "sha512"), start=1)}
CHALLENGE_SIZE = 8


def verify_active_authentication(dg15: Dg15, challenge: bytes, signature: bytes,
                                 dg14: Dg14 | None = None) -> ChipCheckResult:
    """Check the chip's INTERNAL AUTHENTICATE answer to `challenge` (RND.IFD, 8 bytes)."""
    if len(challenge) != CHALLENGE_SIZE:
        raise ValueError("the AA challenge is 8 bytes")
    try:
        key = load_public_key(dg15.public_key_info)
    except PaError as exc:
        return ChipCheckResult.failed(AA, ChipCheckReason.BAD_KEY, str(exc))
    if isinstance(key, rsa.RSAPublicKey):
        valid = verify_iso9796_2(key, challenge, signature)
    else:
        hash_name = _ecdsa_hash(dg14)
        if hash_name is None:
            return ChipCheckResult.failed(AA, ChipCheckReason.UNSUPPORTED_ALGORITHM, "no ECDSA AA algorithm in DG14")
        valid = verify_plain_ecdsa(key, hash_name, challenge, signature)
    return ChipCheckResult.ok(AA) if valid else ChipCheckResult.failed(AA, ChipCheckReason.SIGNATURE_INVALID)


def _ecdsa_hash(dg14: Dg14 | None) -> str | None:
    if dg14 is None or dg14.active_auth is None:
        return None
    return PLAIN_ECDSA_HASHES.get(dg14.active_auth.signature_algorithm)


def verify_iso9796_2(key: rsa.RSAPublicKey, challenge: bytes, signature: bytes) -> bool:
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    value = int.from_bytes(signature, "big")
    if len(signature) != size or not 0 < value < numbers.n:
        return False
    recovered = pow(value, numbers.e, numbers.n)
    # Some chips return min(s, n - s); the representative then appears as n - m.
    return any(_check_9796_block(m.to_bytes(size, "big"), challenge) for m in (recovered, numbers.n - recovered))


def _check_9796_block(block: bytes, challenge: bytes) -> bool:
    if block[-1] == IMPLICIT_SHA1_TRAILER:
        hash_name, trailer = "sha1", 1
    elif block[-1] == 0xCC and block[-2] in TRAILER_HASHES:
        hash_name, trailer = TRAILER_HASHES[block[-2]], 2
    else:
        return False
    hash_size = hash_algorithm(hash_name).digest_size
    if block[0] != PARTIAL_RECOVERY_HEADER or len(block) < 1 + hash_size + trailer + 1:
        return False
    recovered_m1 = block[1:len(block) - hash_size - trailer]
    claimed = block[len(block) - hash_size - trailer:len(block) - trailer]
    return hmac.compare_digest(digest(hash_name, recovered_m1 + challenge), claimed)


def verify_plain_ecdsa(key, hash_name: str, message: bytes, signature: bytes) -> bool:
    """ECDSA with the signature as r||s, each the byte length of the group order."""
    order = key.curve.n if isinstance(key, ExplicitEcKey) else _order(key)
    size = (order.bit_length() + 7) // 8
    if len(signature) != 2 * size:
        return False
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    if isinstance(key, ExplicitEcKey):
        return ecdsa_verify(key.curve, key.point, digest(hash_name, message), r, s)
    if not (0 < r < order and 0 < s < order):
        return False
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hash_algorithm(hash_name)))
    except InvalidSignature:
        return False
    return True


def _order(key: ec.EllipticCurvePublicKey) -> int:
    # load_public_key only builds `cryptography` keys for curves of our table, named alike
    return NAMED_CURVES[key.curve.name].n


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
