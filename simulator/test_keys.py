"""Deterministic test keys: the same seed and label always give the same key.

Tests and scenarios stay reproducible without committing any private key. RSA primes come from a
seeded PRNG with Miller-Rabin (slow-ish in Python, so keys are cached); EC scalars from SHA-256.
Never use these keys for anything but test documents.
"""
from __future__ import annotations

import hashlib
import random
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.crypto.ec import is_probable_prime

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]
RSA_EXPONENT = 65537


def _seeded(seed: str, label: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}/{label}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _probably_prime(n: int) -> bool:
    if any(n % p == 0 for p in SMALL_PRIMES):
        return n in SMALL_PRIMES
    return is_probable_prime(n)


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1  # top two bits set: full-size modulus
        if (candidate - 1) % RSA_EXPONENT and _probably_prime(candidate):
            return candidate


@lru_cache(maxsize=64)
def rsa_key(seed: str, label: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    rng = _seeded(seed, label)
    p, q = _prime(bits // 2, rng), _prime(bits // 2, rng)
    while q == p:
        q = _prime(bits // 2, rng)
    d = pow(RSA_EXPONENT, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(RSA_EXPONENT, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public)
    return numbers.private_key()


def scalar(seed: str, label: str, order: int) -> int:
    digest = hashlib.sha512(f"{seed}/{label}".encode()).digest()
    return int.from_bytes(digest, "big") % (order - 1) + 1


@lru_cache(maxsize=64)
def ec_key(seed: str, label: str, curve_name: str) -> ec.EllipticCurvePrivateKey:
    from firmware_app.emrtd.crypto.curves import CRYPTOGRAPHY_CURVES, NAMED_CURVES

    order = NAMED_CURVES[curve_name].n
    return ec.derive_private_key(scalar(seed, label, order), CRYPTOGRAPHY_CURVES[curve_name]())


def explicit_scalar(seed: str, label: str, curve: Curve) -> int:
    return scalar(seed, label, curve.n)
