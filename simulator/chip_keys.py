"""Chip-side private-key operations for the virtual chip: AA signatures and CA key agreement.

The virtual chip (simulator/vchip) calls these with the private keys the passport factory returns.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import core
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from firmware_app.emrtd.chip_auth.aa import PARTIAL_RECOVERY_HEADER
from firmware_app.emrtd.crypto.dh import DhGroup
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.dg14 import DH_X942

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


@dataclass(frozen=True)
class DhChipKey:
    """A DH chip-authentication key on a standard group (own type: `cryptography` deprecates FFDH)."""
    parameter_id: int
    private: int

    @property
    def group(self) -> DhGroup:
        return STANDARD_PARAMETERS[self.parameter_id]

    def public_value(self) -> int:
        return pow(self.group.g, self.private, self.group.p)

    def public_key_info(self) -> asn1.GenericPublicKeyInfo:
        """X9.42 dhpublicnumber SubjectPublicKeyInfo (p, g, q) for DG14."""
        group = self.group
        return asn1.GenericPublicKeyInfo({
            "algorithm": {"algorithm": DH_X942,
                          "parameters": asn1.DhDomain({"p": group.p, "g": group.g, "third": group.q})},
            "public_key": core.Integer(self.public_value()).dump(),
        })

    def to_json(self) -> str:
        return json.dumps({"parameter_id": self.parameter_id, "private": f"{self.private:x}"})

    @classmethod
    def from_json(cls, text: str) -> DhChipKey:
        data = json.loads(text)
        return cls(int(data["parameter_id"]), int(data["private"], 16))


def chip_auth_shared_secret(key: ec.EllipticCurvePrivateKey | DhChipKey, terminal_public: bytes) -> bytes:
    """The chip's half of CA: (EC)DH with the terminal's ephemeral key (raises ValueError if bad)."""
    if isinstance(key, DhChipKey):
        return _dh_shared_secret(key, terminal_public)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, terminal_public)
    return key.exchange(ec.ECDH(), peer)


def _dh_shared_secret(key: DhChipKey, terminal_public: bytes) -> bytes:
    group = key.group
    value = int.from_bytes(terminal_public, "big")
    if len(terminal_public) > group.size or not group.in_subgroup(value):
        raise ValueError("terminal DH value is not in the prime-order subgroup")
    return pow(value, key.private, group.p).to_bytes(group.size, "big")
