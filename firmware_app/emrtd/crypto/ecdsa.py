"""ECDSA (SEC 1 section 4.1) on any curve of the table or with explicit parameters.

Verification is used only when `cryptography` does not know the curve; signing serves the
simulator's test documents (caller-supplied nonce: never for real keys).
"""
from __future__ import annotations

from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.curves import Curve


def _digest_to_int(curve: Curve, digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    excess = len(digest) * 8 - curve.n.bit_length()
    return value >> excess if excess > 0 else value


def ecdsa_verify(curve: Curve, public: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """ECDSA verification (SEC 1 4.1.4) of a precomputed digest."""
    if not (0 < r < curve.n and 0 < s < curve.n) or not ec.on_curve(curve, public):
        return False
    w = pow(s, -1, curve.n)
    e = _digest_to_int(curve, digest)
    point = ec.linear_combination(curve, e * w, r * w, public)
    return point is not None and point[0] % curve.n == r


def ecdsa_sign(curve: Curve, private: int, digest: bytes, nonce: int) -> tuple[int, int]:
    """ECDSA signature with a caller-supplied nonce (tests and simulator only)."""
    if not 0 < nonce < curve.n:
        raise ValueError("nonce out of range")
    point = ec.multiply(curve, nonce, ec.generator(curve))
    r = point[0] % curve.n if point else 0
    s = pow(nonce, -1, curve.n) * (_digest_to_int(curve, digest) + r * private) % curve.n
    if r == 0 or s == 0:
        raise ValueError("degenerate nonce; pick another")
    return r, s
