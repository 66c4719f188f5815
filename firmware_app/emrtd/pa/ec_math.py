"""Small prime-field elliptic-curve arithmetic and ECDSA over explicit domain parameters.

Used only when a key's explicit parameters match no curve `cryptography` supports (and by the
simulator to sign with such keys). Verification handles public data only, so plain (non
constant-time) arithmetic is acceptable here; signing is for test documents only.
"""
from __future__ import annotations

from firmware_app.emrtd.pa.curves import Curve

Point = tuple[int, int] | None  # affine point; None is the point at infinity
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


class EcPointError(ValueError):
    """Bytes do not encode a point on the curve."""


def is_on_curve(curve: Curve, point: Point) -> bool:
    if point is None:
        return False
    x, y = point
    return 0 <= x < curve.p and 0 <= y < curve.p and (y * y - x * x * x - curve.a * x - curve.b) % curve.p == 0


def is_probable_prime(n: int) -> bool:
    """Miller-Rabin with fixed bases: rejects hostile composite 'primes' in explicit parameters."""
    if n < 2 or n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for base in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        x = pow(base, d, n)
        if x in (0, 1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _sqrt_mod(value: int, p: int) -> int:
    """Tonelli-Shanks square root modulo an odd prime; raises EcPointError for non-residues.

    Every loop is bounded so a composite 'prime' from hostile parameters cannot hang us."""
    value %= p
    if value == 0:
        return 0
    if pow(value, (p - 1) // 2, p) != 1:
        raise EcPointError("not a quadratic residue")
    if p % 4 == 3:
        return pow(value, (p + 1) // 4, p)
    q, s = p - 1, 0
    while q % 2 == 0:
        q, s = q // 2, s + 1
    z = next((z for z in range(2, 1000) if pow(z, (p - 1) // 2, p) == p - 1), None)
    if z is None:
        raise EcPointError("field modulus does not behave like a prime")
    m, c, t, r = s, pow(z, q, p), pow(value, q, p), pow(value, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 1, t * t % p
        while t2 != 1 and i < m:
            i, t2 = i + 1, t2 * t2 % p
        if i == m:
            raise EcPointError("field modulus does not behave like a prime")
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


def decode_point(curve: Curve, data: bytes) -> tuple[int, int]:
    """SEC 1 uncompressed (04) or compressed (02/03) encoding, checked to lie on the curve."""
    size = curve.byte_length
    if len(data) == 1 + 2 * size and data[0] == 4:
        point = (int.from_bytes(data[1:1 + size], "big"), int.from_bytes(data[1 + size:], "big"))
    elif len(data) == 1 + size and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        y = _sqrt_mod(x * x * x + curve.a * x + curve.b, curve.p)
        point = (x, y if y % 2 == data[0] - 2 else (curve.p - y) % curve.p)
    else:
        raise EcPointError("bad point encoding")
    if not is_on_curve(curve, point):
        raise EcPointError("point is not on the curve")
    return point


def encode_point(curve: Curve, point: tuple[int, int]) -> bytes:
    size = curve.byte_length
    return b"\x04" + point[0].to_bytes(size, "big") + point[1].to_bytes(size, "big")


def _double(curve: Curve, pt: _Jacobian) -> _Jacobian:
    x, y, z = pt
    p = curve.p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % p
    s = 4 * x * yy % p
    m = (3 * x * x + curve.a * pow(z, 4, p)) % p
    nx = (m * m - 2 * s) % p
    return nx, (m * (s - nx) - 8 * yy * yy) % p, 2 * y * z % p


def _add(curve: Curve, one: _Jacobian, two: _Jacobian) -> _Jacobian:
    if one[2] == 0:
        return two
    if two[2] == 0:
        return one
    p = curve.p
    x1, y1, z1 = one
    x2, y2, z2 = two
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
    s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
    if u1 == u2:
        return _double(curve, one) if s1 == s2 else _INFINITY
    h, r = (u2 - u1) % p, (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    nx = (r * r - hhh - 2 * u1 * hh) % p
    return nx, (r * (u1 * hh - nx) - s1 * hhh) % p, h * z1 * z2 % p


def _to_affine(curve: Curve, pt: _Jacobian) -> Point:
    x, y, z = pt
    if z == 0:
        return None
    zinv = pow(z, -1, curve.p)
    zinv2 = zinv * zinv % curve.p
    return x * zinv2 % curve.p, y * zinv2 * zinv % curve.p


def _mul_jacobian(curve: Curve, k: int, point: tuple[int, int]) -> _Jacobian:
    result, addend = _INFINITY, (point[0], point[1], 1)
    for bit in bin(k)[2:]:
        result = _double(curve, result)
        if bit == "1":
            result = _add(curve, result, addend)
    return result


def multiply(curve: Curve, k: int, point: tuple[int, int]) -> Point:
    return _to_affine(curve, _mul_jacobian(curve, k, point))


def generator(curve: Curve) -> tuple[int, int]:
    return curve.gx, curve.gy


def _digest_to_int(curve: Curve, digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    excess = len(digest) * 8 - curve.n.bit_length()
    return value >> excess if excess > 0 else value


def ecdsa_verify(curve: Curve, public: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """ECDSA verification (SEC 1 4.1.4) of a precomputed digest."""
    if not (0 < r < curve.n and 0 < s < curve.n) or not is_on_curve(curve, public):
        return False
    w = pow(s, -1, curve.n)
    e = _digest_to_int(curve, digest)
    u1, u2 = e * w % curve.n, r * w % curve.n
    total = _add(curve, _mul_jacobian(curve, u1, generator(curve)), _mul_jacobian(curve, u2, public))
    point = _to_affine(curve, total)
    return point is not None and point[0] % curve.n == r


def ecdsa_sign(curve: Curve, private: int, digest: bytes, nonce: int) -> tuple[int, int]:
    """ECDSA signature with a caller-supplied nonce (tests and simulator only)."""
    if not 0 < nonce < curve.n:
        raise ValueError("nonce out of range")
    point = multiply(curve, nonce, generator(curve))
    r = point[0] % curve.n if point else 0
    s = pow(nonce, -1, curve.n) * (_digest_to_int(curve, digest) + r * private) % curve.n
    if r == 0 or s == 0:
        raise ValueError("degenerate nonce; pick another")
    return r, s
