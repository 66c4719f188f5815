"""Chip-side private-key operations for the virtual chip: AA signatures and CA key agreement.

The virtual chip (simulator/vchip) calls these with the private keys the passport factory returns.
"""
from __future__ import annotations

import hashlib
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from firmware_app.emrtd.auth.aa import PARTIAL_RECOVERY_HEADER

RandomBytes = Callable[[int], bytes]


def iso9796_2_sign(key: rsa.RSAPrivateKey, challenge: bytes, random_bytes: RandomBytes,
                   hash_name: str = "sha1") -> bytes:
    """ISO/IEC 9796-2 scheme 1, partial recovery: M1 is chip randomness filling the block."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    trailer = b"\xbc" if hash_name == "sha1" else {"sha256": b"\x34\xcc", "sha224": b"\x38\xcc",
                                                    "sha384": b"\x36\xcc", "sha512": b"\x35\xcc"}[hash_name]
    hash_size = hashlib.new(hash_name).digest_size
    m1 = random_bytes(size - 1 - hash_size - len(trailer))
    block = bytes([PARTIAL_RECOVERY_HEADER]) + m1 + hashlib.new(hash_name, m1 + challenge).digest() + trailer
    return pow(int.from_bytes(block, "big"), numbers.d, n).to_bytes(size, "big")


def plain_ecdsa_sign(key: ec.EllipticCurvePrivateKey, challenge: bytes,
                     hash_algorithm: hashes.HashAlgorithm = hashes.SHA256()) -> bytes:
    """ECDSA with the r||s plain format (BSI TR-03111)."""
    r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(hash_algorithm)))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def active_auth_sign(key, challenge: bytes, random_bytes: RandomBytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return iso9796_2_sign(key, challenge, random_bytes)
    return plain_ecdsa_sign(key, challenge)


def chip_auth_shared_secret(key: ec.EllipticCurvePrivateKey, terminal_public: bytes) -> bytes:
    """The chip's half of CA: ECDH with the terminal's ephemeral point (raises ValueError if bad)."""
    peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, terminal_public)
    return key.exchange(ec.ECDH(), peer)
