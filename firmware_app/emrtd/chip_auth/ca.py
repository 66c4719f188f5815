"""Chip authentication version 1 (ICAO 9303-11 6.2): the terminal makes an ephemeral key on the
chip's DG14 domain parameters, both sides agree a secret with (EC)DH, and new secure-messaging keys
come from the 9303 KDF (randomness injected). Then the key goes to the chip (MSE:Set KAT for 3DES,
MSE:Set AT + GENERAL AUTHENTICATE for AES) and secure messaging restarts with the agreed keys: a
clone without the private key cannot follow.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from firmware_app.emrtd.apdu import CommandApdu, Ins
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.cipher import CipherKind, suite_for
from firmware_app.emrtd.crypto import ec as curve_math
from firmware_app.emrtd.crypto.curves import NAMED_CURVES, Curve, cryptography_curve
from firmware_app.emrtd.crypto.dh import DhGroup
from firmware_app.emrtd.errors import (
    BadChipKey,
    ChipAuthUnavailable,
    ChipCheckError,
    PaError,
    SecureMessagingError,
    TlvError,
)
from firmware_app.emrtd.keys import KeyAlgorithm, KeyPurpose, kdf
from firmware_app.emrtd.lds.dg14 import Agreement, CaCipher, ChipAuthInfo, ChipAuthPublicKey, Dg14, DhPublicKey
from firmware_app.emrtd.lds.key_bounds import MAX_DH_P_BITS, MAX_DH_Q_BITS, MIN_DH_P_BITS
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, PublicKey, load_public_key
from firmware_app.emrtd.session import Rng, Session
from firmware_app.emrtd.sm import SecureMessaging
from firmware_app.emrtd.tlv import encode_tlv

RandomBytes = Callable[[int], bytes]
CA = ChipCheck.CHIP_AUTHENTICATION
CIPHERS = {CaCipher.DES3: KeyAlgorithm.DES3, CaCipher.AES128: KeyAlgorithm.AES128,
           CaCipher.AES192: KeyAlgorithm.AES192, CaCipher.AES256: KeyAlgorithm.AES256}


@dataclass(frozen=True)
class CaSetup:
    info: ChipAuthInfo
    key: ChipAuthPublicKey

    @property
    def algorithm(self) -> KeyAlgorithm:
        return CIPHERS[self.info.cipher]

    @cached_property
    def ec_public_key(self) -> PublicKey:
        """The chip's ECDH key, loaded and validated once (explicit parameters cost milliseconds)."""
        try:
            return load_public_key(self.key.ec_key)
        except PaError as exc:
            raise BadChipKey(f"chip-authentication key: {exc}") from exc


@dataclass(frozen=True)
class EphemeralKey:
    private: int
    public: bytes  # what the terminal sends: uncompressed point (ECDH) or y (DH)

    def __repr__(self) -> str:
        return f"EphemeralKey(public={self.public.hex()})"


@dataclass(frozen=True)
class CaSessionKeys:
    ks_enc: bytes
    ks_mac: bytes
    algorithm: KeyAlgorithm

    def __repr__(self) -> str:
        return f"CaSessionKeys({self.algorithm.name})"


def choose_chip_auth(dg14: Dg14) -> CaSetup:
    """Pair a ChipAuthenticationInfo with its public key (by keyId), strongest cipher first."""
    for info in sorted(dg14.chip_auth, key=lambda i: i.cipher.value, reverse=True):
        for key in dg14.chip_auth_keys:
            if key.agreement is info.agreement and (info.key_id is None or key.key_id in (None, info.key_id)):
                return CaSetup(info, key)
    if dg14.chip_auth_keys and not dg14.chip_auth:
        # 9303-11: a lone DH/ECDH key without ChipAuthenticationInfo implies 3DES
        key = dg14.chip_auth_keys[0]
        protocol = "implied-3DES"
        return CaSetup(ChipAuthInfo(protocol, key.agreement, CaCipher.DES3, 1, key.key_id), key)
    raise ChipAuthUnavailable("DG14 offers no usable chip-authentication key")


def chip_curve(setup: CaSetup) -> Curve:
    if setup.key.agreement is not Agreement.ECDH or setup.key.ec_key is None:
        raise ChipAuthUnavailable("not an ECDH chip-authentication key")
    key = setup.ec_public_key
    if isinstance(key, ExplicitEcKey):
        return key.curve
    if isinstance(key, ec.EllipticCurvePublicKey):
        return NAMED_CURVES[key.curve.name]
    raise ChipAuthUnavailable("not an ECDH chip-authentication key")


def make_ephemeral(setup: CaSetup, random_bytes: RandomBytes) -> EphemeralKey:
    if setup.key.agreement is Agreement.DH:
        return _dh_ephemeral(_dh_key(setup), random_bytes)
    curve = chip_curve(setup)
    private = _random_below(curve.n, random_bytes)
    return EphemeralKey(private, _public_point(curve, private))


def _public_point(curve: Curve, private: int) -> bytes:
    """private*G, uncompressed: by `cryptography` when it knows the curve (much faster)."""
    known = cryptography_curve(curve)
    if known is None:
        return curve_math.encode_point(curve, curve_math.multiply(curve, private, curve_math.generator(curve)))
    public = ec.derive_private_key(private, known).public_key()
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _random_below(limit: int, random_bytes: RandomBytes) -> int:
    size = (limit.bit_length() + 7) // 8 + 8  # 64 extra bits make the modulo bias negligible
    return int.from_bytes(random_bytes(size), "big") % (limit - 1) + 1


def _dh_key(setup: CaSetup) -> DhPublicKey:
    """The DG14 parser bounds these already; checked again here, before any pow(), because a
    DhPublicKey may come from elsewhere and one unbounded exponent holds the GIL for seconds."""
    key = setup.key.dh_key
    if key is None or not MIN_DH_P_BITS <= key.p.bit_length() <= MAX_DH_P_BITS or not 1 < key.y < key.p - 1:
        raise BadChipKey("DH chip-authentication key out of range")
    if key.q is not None and not (1 < key.q < key.p and key.q.bit_length() <= MAX_DH_Q_BITS):
        raise BadChipKey("DH subgroup order out of range")
    if not 1 < key.g < key.p - 1:
        raise BadChipKey("DH generator out of range")
    if key.q is not None and not DhGroup("DG14", key.p, key.g, key.q).in_subgroup(key.y):
        raise BadChipKey("DH chip key is not in the prime-order subgroup")
    return key


def _dh_ephemeral(key: DhPublicKey, random_bytes: RandomBytes) -> EphemeralKey:
    # without q (PKCS#3), a short exponent as usual: a full-size one costs ~0.2 s per pow at 4096 bits
    private = _random_below(key.q or 1 << MAX_DH_Q_BITS, random_bytes)
    size = (key.p.bit_length() + 7) // 8
    return EphemeralKey(private, pow(key.g, private, key.p).to_bytes(size, "big"))


def shared_secret(setup: CaSetup, ephemeral: EphemeralKey) -> bytes:
    """K: the x-coordinate of d*PK_chip (ECDH) or PK_chip^x mod p (DH), fixed length."""
    if setup.key.agreement is Agreement.DH:
        key = _dh_key(setup)
        size = (key.p.bit_length() + 7) // 8
        return pow(key.y, ephemeral.private, key.p).to_bytes(size, "big")
    chip_curve(setup)  # refuses a non-ECDH key
    public = setup.ec_public_key  # point validated on load (emrtd.crypto policy or `cryptography`)
    if isinstance(public, ec.EllipticCurvePublicKey):
        return _ecdh_with_cryptography(ephemeral.private, public)
    assert isinstance(public, ExplicitEcKey)    # chip_curve() refused anything else
    shared = curve_math.multiply(public.curve, ephemeral.private * public.curve.h, public.point)
    if shared is None:
        raise BadChipKey("ECDH result is the point at infinity")
    return shared[0].to_bytes(public.curve.size, "big")


def _ecdh_with_cryptography(private: int, peer: ec.EllipticCurvePublicKey) -> bytes:
    own = ec.derive_private_key(private, peer.curve)
    return own.exchange(ec.ECDH(), peer)


def derive_session_keys(setup: CaSetup, shared: bytes) -> CaSessionKeys:
    algorithm = setup.algorithm
    return CaSessionKeys(kdf(shared, KeyPurpose.ENC, algorithm), kdf(shared, KeyPurpose.MAC, algorithm), algorithm)


def agree(setup: CaSetup, random_bytes: RandomBytes) -> tuple[EphemeralKey, CaSessionKeys]:
    """One call for the reader: the ephemeral key to send and the keys to switch to."""
    ephemeral = make_ephemeral(setup, random_bytes)
    return ephemeral, derive_session_keys(setup, shared_secret(setup, ephemeral))


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
