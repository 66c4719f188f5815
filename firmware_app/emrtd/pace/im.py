"""PACE integrated mapping (ICAO 9303-11 section 4.4.3.3.2 and Appendix B).

The chip's nonce s and the terminal's nonce t go through the block-cipher pseudo-random function
R(s, t); its output reduced modulo p becomes the new generator: on ECDH through the Appendix B point
encoding (the one of Brier et al., which needs p = 3 mod 4), on DH by raising it to (p-1)/q.
"""
from __future__ import annotations

from firmware_app.emrtd.cipher import AesSuite, Des3Suite
from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.keys import KeyAlgorithm
from firmware_app.emrtd.pace.groups import EcdhGroup, ModpGroup

# c0 and c1 of Figure 2, by the bit length l of the nonce s (128: 3DES, AES-128; 256: AES-192/256)
_CONSTANTS = {
    16: (bytes.fromhex("a668892a7c41e3ca739f40b057d85904"), bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")),
    32: (bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"),
         bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")),
}


def nonce_sizes(algorithm: KeyAlgorithm) -> tuple[int, int]:
    """(bytes of s, bytes of t): t is one key, s the smallest whole number of blocks >= a key.

    3DES counts as a 128-bit key here (9303-11: 'k is considered to be equal to 128 bits')."""
    key = algorithm.key_size
    return (16 if key == 16 else 32), key


def pseudo_random(suite: AesSuite | Des3Suite, algorithm: KeyAlgorithm, s: bytes, t: bytes, p_bits: int) -> bytes:
    """R(s, t) = x_0 || ... || x_(n-1): k_0 = E(t, s), x_i = E(k_i, c1), k_(i+1) = E(k_i, c0),
    each E in CBC mode with a zero IV and each k_i cut to the key size."""
    s_size, t_size = nonce_sizes(algorithm)
    if len(s) != s_size or len(t) != t_size:
        raise AuthenticationError("PACE", f"integrated mapping nonces must be {s_size} and {t_size} bytes")
    c0, c1 = _CONSTANTS[s_size]
    blocks = -(-(p_bits + 64) // (8 * s_size))  # smallest n with n*l >= log2(p) + 64
    key, out = suite.encrypt(t, s), b""
    for _ in range(blocks):
        key = key[:t_size]
        out += suite.encrypt(key, c1)
        key = suite.encrypt(key, c0)
    return out


def reduced(prf_output: bytes, p: int) -> int:
    """R_p(s, t) = int(R(s, t)) mod p."""
    return int.from_bytes(prf_output, "big") % p


def encode_point(curve: Curve, t: int) -> tuple[int, int]:
    """Appendix B.2 (affine): a field element 0 < t < p to a point of the prime-order subgroup."""
    p, a, b = curve.p, curve.a % curve.p, curve.b % curve.p
    if p % 4 != 3 or a == 0 or not 0 < t < p:
        raise AuthenticationError("PACE", "integrated mapping needs p = 3 mod 4, a != 0 and 0 < t < p")
    alpha = -t * t % p
    denominator = a * (alpha + alpha * alpha) % p
    if denominator == 0:
        raise AuthenticationError("PACE", "integrated mapping hit a degenerate nonce")
    x2 = -b * (1 + alpha + alpha * alpha) * pow(denominator, -1, p) % p
    x3 = alpha * x2 % p
    h2 = (x2 * x2 * x2 + a * x2 + b) % p
    u = t * t * t * h2 % p
    big_a = pow(h2, p - 1 - (p + 1) // 4, p)
    point: ec.Point = (x2, big_a * h2 % p) if big_a * big_a * h2 % p == 1 else (x3, big_a * u % p)
    if curve.h != 1:
        point = ec.multiply(curve, curve.h, point)  # [f]P: only non-ICAO curves have f > 1
    if point is None or not ec.on_curve(curve, point):
        raise AuthenticationError("PACE", "integrated mapping gave no usable point")
    return point


def map_ecdh(group: EcdhGroup, suite, algorithm: KeyAlgorithm, s: bytes, t: bytes) -> EcdhGroup:
    curve = group.curve
    return EcdhGroup(curve, encode_point(curve, reduced(pseudo_random(suite, algorithm, s, t, curve.p.bit_length()),
                                                                curve.p)))


def map_dh(group: ModpGroup, suite, algorithm: KeyAlgorithm, s: bytes, t: bytes) -> ModpGroup:
    """g~ = R_p(s, t)^((p-1)/q) mod p, which must not be 1."""
    p, q = group.group.p, group.group.q
    value = reduced(pseudo_random(suite, algorithm, s, t, p.bit_length()), p)
    generator = pow(value, (p - 1) // q, p)
    if generator <= 1:
        raise AuthenticationError("PACE", "integrated mapping gave a trivial generator")
    return ModpGroup(group.group, generator)


def map_integrated(group: EcdhGroup | ModpGroup, suite, algorithm: KeyAlgorithm, s: bytes, t: bytes):
    if isinstance(group, EcdhGroup):
        return map_ecdh(group, suite, algorithm, s, t)
    return map_dh(group, suite, algorithm, s, t)
