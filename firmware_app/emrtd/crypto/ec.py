"""Prime-field elliptic-curve arithmetic (Jacobian coordinates) and the SEC 1 point codec.

Used where `cryptography` cannot help: PACE's mapped generator G' = s*G + H, keys with explicit
domain parameters that match no curve it knows, and the simulator's chip. Not constant-time: it
handles public data, the terminal's one-use ephemeral keys and test documents only.

One validation policy for every caller:
- scalars are reduced modulo the group order n;
- a decoded point must lie on the curve (and, when the cofactor is not 1, in the order-n subgroup),
  so the point at infinity and small-subgroup points never get in;
- decoding accepts uncompressed (04) and compressed (02/03) encodings.
"""
from __future__ import annotations

from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.errors import InvalidPoint

Point = tuple[int, int] | None  # affine point; None is the point at infinity
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)
_MILLER_RABIN_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)


def on_curve(curve: Curve, point: Point) -> bool:
    if point is None:
        return False
    x, y = point
    if not (0 <= x < curve.p and 0 <= y < curve.p):
        return False
    return (y * y - x * x * x - curve.a * x - curve.b) % curve.p == 0


def generator(curve: Curve) -> tuple[int, int]:
    return curve.gx, curve.gy


def has_order_n(curve: Curve, point: Point) -> bool:
    """n * point is the point at infinity (scalar deliberately not reduced)."""
    return point is not None and _mul_jacobian(curve, curve.n, point)[2] == 0


def add(curve: Curve, first: Point, second: Point) -> Point:
    return _to_affine(curve, _add(curve, _to_jacobian(first), _to_jacobian(second)))


def multiply(curve: Curve, scalar: int, point: Point) -> Point:
    """scalar * point, with the scalar reduced modulo n (points here are in the order-n group)."""
    if point is None:
        return None
    return _to_affine(curve, _mul_jacobian(curve, scalar % curve.n, point))


def encode_point(curve: Curve, point: Point) -> bytes:
    """SEC 1 uncompressed encoding 04 || x || y."""
    if point is None:
        raise InvalidPoint("cannot encode the point at infinity")
    return b"\x04" + point[0].to_bytes(curve.size, "big") + point[1].to_bytes(curve.size, "big")


def decode_point(curve: Curve, data: bytes) -> tuple[int, int]:
    """SEC 1 uncompressed (04) or compressed (02/03) encoding, validated as described above."""
    size = curve.size
    if len(data) == 1 + 2 * size and data[0] == 4:
        point = (int.from_bytes(data[1:1 + size], "big"), int.from_bytes(data[1 + size:], "big"))
    elif len(data) == 1 + size and data[0] in (2, 3):
        point = _decompress(curve, int.from_bytes(data[1:], "big"), odd=data[0] == 3)
    else:
        raise InvalidPoint("not an uncompressed or compressed point of this curve's size")
    if not on_curve(curve, point):
        raise InvalidPoint("point is not on the curve")
    if curve.h != 1 and not has_order_n(curve, point):
        raise InvalidPoint("point is not in the prime-order subgroup")
    return point


def _decompress(curve: Curve, x: int, odd: bool) -> tuple[int, int]:
    if x >= curve.p:
        raise InvalidPoint("x coordinate outside the field")
    y = _sqrt_mod(x * x * x + curve.a * x + curve.b, curve.p)
    return x, y if y % 2 == int(odd) else (curve.p - y) % curve.p


def is_probable_prime(n: int) -> bool:
    """Miller-Rabin with fixed bases: rejects hostile composite 'primes' in explicit parameters."""
    if n < 2 or n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    return all(_passes_round(n, base, d, s) for base in _MILLER_RABIN_BASES if base % n)


def _passes_round(n: int, base: int, d: int, s: int) -> bool:
    x = pow(base, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def _sqrt_mod(value: int, p: int) -> int:
    """Square root modulo an odd prime; InvalidPoint for non-residues."""
    value %= p
    if value == 0:
        return 0
    if pow(value, (p - 1) // 2, p) != 1:
        raise InvalidPoint("x has no matching y on the curve")
    if p % 4 == 3:
        return pow(value, (p + 1) // 4, p)
    return _tonelli_shanks(value, p)


def _tonelli_shanks(value: int, p: int) -> int:
    """Every loop is bounded so a composite 'prime' from hostile parameters cannot hang us."""
    q, s = p - 1, 0
    while q % 2 == 0:
        q, s = q // 2, s + 1
    z = next((z for z in range(2, 1000) if pow(z, (p - 1) // 2, p) == p - 1), None)
    if z is None:
        raise InvalidPoint("field modulus does not behave like a prime")
    m, c, t, r = s, pow(z, q, p), pow(value, q, p), pow(value, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 1, t * t % p
        while t2 != 1 and i < m:
            i, t2 = i + 1, t2 * t2 % p
        if i == m:
            raise InvalidPoint("field modulus does not behave like a prime")
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


def _to_jacobian(point: Point) -> _Jacobian:
    return _INFINITY if point is None else (point[0], point[1], 1)


def _to_affine(curve: Curve, point: _Jacobian) -> Point:
    x, y, z = point
    if z == 0:
        return None
    z_inv = pow(z, -1, curve.p)
    z_inv2 = z_inv * z_inv % curve.p
    return x * z_inv2 % curve.p, y * z_inv2 * z_inv % curve.p


def _double(curve: Curve, point: _Jacobian) -> _Jacobian:
    x, y, z = point
    p = curve.p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p


def _add(curve: Curve, first: _Jacobian, second: _Jacobian) -> _Jacobian:
    if first[2] == 0:
        return second
    if second[2] == 0:
        return first
    p = curve.p
    x1, y1, z1 = first
    x2, y2, z2 = second
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
    s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
    if u1 == u2:
        return _double(curve, first) if s1 == s2 else _INFINITY
    h, r = (u2 - u1) % p, (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - s1 * hhh) % p, z1 * z2 * h % p


def _mul_jacobian(curve: Curve, scalar: int, point: tuple[int, int]) -> _Jacobian:
    """Left-to-right double-and-add; a non-positive scalar gives the point at infinity."""
    result, base = _INFINITY, _to_jacobian(point)
    for bit in bin(scalar)[2:] if scalar > 0 else "":
        result = _double(curve, result)
        if bit == "1":
            result = _add(curve, result, base)
    return result


def linear_combination(curve: Curve, u1: int, u2: int, point: tuple[int, int]) -> Point:
    """u1*G + u2*point (the ECDSA verification equation), scalars reduced modulo n."""
    first = _mul_jacobian(curve, u1 % curve.n, generator(curve))
    return _to_affine(curve, _add(curve, first, _mul_jacobian(curve, u2 % curve.n, point)))
