"""Turn an X.509 SubjectPublicKeyInfo into something that can verify or agree keys.

RSA and named-curve EC keys become `cryptography` keys. Explicit-parameter EC keys (common in
passports; refused by `cryptography`) are matched to a named curve when their parameters are those
of one, otherwise kept as ExplicitEcKey for the small in-house implementation (emrtd.crypto).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from asn1crypto import keys
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from firmware_app.emrtd.crypto.curves import NAMED_CURVES, Curve, cryptography_curve, match_named_curve
from firmware_app.emrtd.crypto.ec import decode_point, has_order_n, is_probable_prime
from firmware_app.emrtd.errors import BadPublicKey, InvalidPoint, UnsupportedAlgorithm
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS

MAX_FIELD_BITS = 571  # larger explicit fields are no ICAO curve and would only cost CPU
MAX_RSA_BITS = 8192
MIN_RSA_BITS = 1024  # ICAO's floor (AA keys); smaller moduli are factored in seconds
MAX_COFACTOR = 8  # ICAO curves have cofactor 1


@dataclass(frozen=True)
class ExplicitEcKey:
    curve: Curve
    point: tuple[int, int]


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ExplicitEcKey


def load_public_key(spki: keys.PublicKeyInfo) -> PublicKey:
    try:
        algorithm = spki["algorithm"]["algorithm"].native
        if algorithm in ("rsa", "rsassa_pss"):
            return _rsa_key(spki)
        if algorithm == "ec":
            return _ec_key(spki)
    except ASN1_DECODE_ERRORS as exc:
        raise BadPublicKey(f"public key cannot be decoded ({type(exc).__name__})") from exc
    raise UnsupportedAlgorithm(f"public key algorithm {algorithm}")


def _rsa_key(spki: keys.PublicKeyInfo) -> rsa.RSAPublicKey:
    numbers = spki["public_key"].parsed
    n, e = numbers["modulus"].native, numbers["public_exponent"].native
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS or e < 3 or e % 2 == 0:
        raise BadPublicKey("RSA modulus or exponent out of range")
    return rsa.RSAPublicNumbers(e, n).public_key()


def _ec_key(spki: keys.PublicKeyInfo) -> PublicKey:
    params = spki["algorithm"]["parameters"]
    point = spki["public_key"].native
    if params.name == "named":
        curve = NAMED_CURVES.get(_openssl_to_sec_name(params.chosen.native))
        if curve is None:
            raise UnsupportedAlgorithm(f"named curve {params.chosen.native}")
    elif params.name == "specified":
        curve = curve_from_specified(params.chosen)
    else:
        raise UnsupportedAlgorithm("implicitly-CA EC parameters")
    return ec_public_key(curve, point)


def _openssl_to_sec_name(name: str) -> str:
    aliases = {"prime192v1": "secp192r1", "prime256v1": "secp256r1"}
    return aliases.get(name, name)


def ec_public_key(curve: Curve, point: bytes) -> PublicKey:
    """A verifier for this point: `cryptography` when it knows the curve, ExplicitEcKey otherwise."""
    named = match_named_curve(curve) or curve
    crypto_curve = cryptography_curve(named)
    try:
        if crypto_curve is not None:
            return ec.EllipticCurvePublicKey.from_encoded_point(crypto_curve, point)
        return ExplicitEcKey(named, decode_point(named, point))
    except (ValueError, InvalidPoint) as exc:
        raise BadPublicKey(f"EC point invalid: {exc}") from exc


def curve_from_specified(domain: keys.SpecifiedECDomain) -> Curve:
    """Explicit domain parameters, bounded and checked; a standard curve's are accepted as such."""
    p = _field_prime(domain)
    n, h = domain["order"].native, domain["cofactor"].native or 1
    if not 1 <= h <= MAX_COFACTOR:
        raise BadPublicKey("EC cofactor out of range")
    if n < 3 or n.bit_length() > p.bit_length() + 1:
        raise BadPublicKey("EC group order out of range")
    a = int.from_bytes(domain["curve"]["a"].native, "big") % p
    b = int.from_bytes(domain["curve"]["b"].native, "big") % p
    try:
        gx, gy = decode_point(Curve("explicit", p, a, b, 0, 0, n, h), domain["base"].native)
    except InvalidPoint as exc:
        raise BadPublicKey(f"EC base point invalid: {exc}") from exc
    curve = Curve("explicit", p, a, b, gx, gy, n, h)
    # primality costs milliseconds; the parameters of a listed standard curve are known good
    if match_named_curve(curve) is None and not (is_probable_prime(p) and is_probable_prime(n)):
        raise BadPublicKey("EC field modulus or group order is not a usable prime")
    if match_named_curve(curve) is None and not _order_is_genuine(curve):
        raise BadPublicKey("EC group order is not the order of the base point")
    return curve


def _order_is_genuine(curve: Curve) -> bool:
    """Hasse's bound holds for n*h and n*G is infinity: otherwise a claimed (e.g. tiny) order makes
    ECDSA forgeable and ECDH weak."""
    hasse = 2 * math.isqrt(curve.p) + 1
    return abs(curve.n * curve.h - (curve.p + 1)) <= hasse and has_order_n(curve, (curve.gx, curve.gy))


def _field_prime(domain: keys.SpecifiedECDomain) -> int:
    field = domain["field_id"]
    if field["field_type"].native != "prime_field":
        raise UnsupportedAlgorithm("EC curve over a characteristic-two field")
    p = field["parameters"].native
    if not isinstance(p, int) or p < 5 or p.bit_length() > MAX_FIELD_BITS:
        raise BadPublicKey("EC field modulus out of range")
    return p
