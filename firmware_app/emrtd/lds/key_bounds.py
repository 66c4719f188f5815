"""Size bounds on the chip's own public keys (DG14 chip-authentication keys, the DG15 AA key),
checked while parsing, before any arithmetic touches them.

Python's pow() holds the GIL: a DH subgroup order of 65 KB, or an 8190-bit RSA exponent, costs
seconds during which no other thread of the appliance runs. Out-of-range values that cannot be a
group or a key are malformed (LdsFormatError: the check fails); values that are possible but
beyond what this build accepts are unsupported (LdsUnsupported: the lane refers).
"""
from __future__ import annotations

from asn1crypto import keys

from firmware_app.emrtd.crypto.dh import MAX_MODULUS_BITS, MAX_ORDER_BITS
from firmware_app.emrtd.errors import LdsFormatError, LdsUnsupported

MIN_DH_P_BITS = 1024
MAX_DH_P_BITS = MAX_MODULUS_BITS
MAX_DH_Q_BITS = MAX_ORDER_BITS  # RFC 5114 groups use 160-256 bits
MAX_EC_FIELD_BITS = 571
MAX_EC_COFACTOR = 8  # ICAO curves have cofactor 1
MAX_RSA_BITS = 8192
MAX_RSA_EXPONENT_BITS = 64  # e = 3 or 65537 in practice; OpenSSL refuses more above 3072-bit moduli


def check_dh_domain(p: int, g: int, q: int | None, file_name: str) -> None:
    """p of a sane size, 1 < g < p-1, and a subgroup order q (when given) below p and small."""
    if not MIN_DH_P_BITS <= p.bit_length() <= MAX_DH_P_BITS:
        raise LdsUnsupported(file_name, f"DH modulus of {p.bit_length()} bits")
    if not 1 < g < p - 1:
        raise LdsFormatError(file_name, "DH generator out of range")
    if q is None:
        return
    if not 1 < q < p:
        raise LdsFormatError(file_name, "DH subgroup order not below the modulus")
    if q.bit_length() > MAX_DH_Q_BITS:
        raise LdsUnsupported(file_name, f"DH subgroup order of {q.bit_length()} bits")


def check_dh_public(p: int, y: int, file_name: str) -> None:
    if not 1 < y < p - 1:
        raise LdsFormatError(file_name, "DH public value out of range")


def check_public_key_info(spki: keys.PublicKeyInfo, file_name: str) -> None:
    """RSA modulus and exponent, or explicit EC field, order and cofactor sizes (named curves pass)."""
    algorithm = spki["algorithm"]["algorithm"].native
    if algorithm in ("rsa", "rsassa_pss"):
        _check_rsa(spki["public_key"].parsed, file_name)
    elif algorithm == "ec":
        parameters = spki["algorithm"]["parameters"]
        if parameters.name == "specified":
            _check_ec_domain(parameters.chosen, file_name)


def _check_rsa(numbers: keys.RSAPublicKey, file_name: str) -> None:
    n, e = numbers["modulus"].native, numbers["public_exponent"].native
    if n.bit_length() > MAX_RSA_BITS:
        raise LdsUnsupported(file_name, f"RSA modulus of {n.bit_length()} bits")
    if not 1 < e < n:
        raise LdsFormatError(file_name, "RSA exponent out of range")
    if e.bit_length() > MAX_RSA_EXPONENT_BITS:
        raise LdsUnsupported(file_name, f"RSA exponent of {e.bit_length()} bits")


def _check_ec_domain(domain: keys.SpecifiedECDomain, file_name: str) -> None:
    field = domain["field_id"]
    if field["field_type"].native != "prime_field":
        raise LdsUnsupported(file_name, "EC curve over a characteristic-two field")
    p = field["parameters"].native
    if not isinstance(p, int) or p < 5 or p.bit_length() > MAX_EC_FIELD_BITS:
        raise LdsUnsupported(file_name, "EC field modulus out of range")
    n, h = domain["order"].native, domain["cofactor"].native
    if n < 3 or n.bit_length() > p.bit_length() + 1:
        raise LdsFormatError(file_name, "EC group order out of range for its field")
    if h is not None and not 1 <= h <= MAX_EC_COFACTOR:
        raise LdsFormatError(file_name, "EC cofactor out of range")
