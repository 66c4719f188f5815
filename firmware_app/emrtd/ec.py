"""Small prime-field elliptic-curve arithmetic for PACE generic mapping.

PACE maps to a new generator G' = s*G + H, which `cryptography` cannot use, so point addition and
scalar multiplication are done here on the standard domain parameters (Jacobian coordinates).
Not constant-time: it is used only for the terminal's ephemeral keys and in the simulator.
"""
from __future__ import annotations

from firmware_app.emrtd.domains import CurveParams
from firmware_app.emrtd.errors import AuthenticationError

Point = tuple[int, int] | None  # None is the point at infinity
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


class InvalidPoint(AuthenticationError):
    def __init__(self, reason: str):
        super().__init__("PACE", f"invalid curve point: {reason}")


def on_curve(curve: CurveParams, point: Point) -> bool:
    if point is None:
        return False
    x, y = point
    if not (0 <= x < curve.p and 0 <= y < curve.p):
        return False
    return (y * y - x * x * x - curve.a * x - curve.b) % curve.p == 0


def generator(curve: CurveParams) -> Point:
    return (curve.gx, curve.gy)


def _to_jacobian(point: Point) -> _Jacobian:
    return _INFINITY if point is None else (point[0], point[1], 1)


def _to_affine(curve: CurveParams, point: _Jacobian) -> Point:
    x, y, z = point
    if z == 0:
        return None
    z_inv = pow(z, -1, curve.p)
    z_inv2 = z_inv * z_inv % curve.p
    return (x * z_inv2 % curve.p, y * z_inv2 * z_inv % curve.p)


def _double(curve: CurveParams, point: _Jacobian) -> _Jacobian:
    x, y, z = point
    p = curve.p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    return (x3, y3, 2 * y * z % p)


def _add(curve: CurveParams, first: _Jacobian, second: _Jacobian) -> _Jacobian:
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
    y3 = (r * (v - x3) - s1 * hhh) % p
    return (x3, y3, z1 * z2 * h % p)


def add(curve: CurveParams, first: Point, second: Point) -> Point:
    return _to_affine(curve, _add(curve, _to_jacobian(first), _to_jacobian(second)))


def multiply(curve: CurveParams, scalar: int, point: Point) -> Point:
    """scalar * point by double-and-add (left to right)."""
    result, base = _INFINITY, _to_jacobian(point)
    for bit in bin(scalar % curve.n)[2:] if scalar % curve.n else "":
        result = _double(curve, result)
        if bit == "1":
            result = _add(curve, result, base)
    return _to_affine(curve, result)


def encode_point(curve: CurveParams, point: Point) -> bytes:
    if point is None:
        raise InvalidPoint("cannot encode the point at infinity")
    return b"\x04" + point[0].to_bytes(curve.size, "big") + point[1].to_bytes(curve.size, "big")


def decode_point(curve: CurveParams, data: bytes) -> Point:
    """Uncompressed point, checked to lie on the curve (all supported curves have cofactor 1)."""
    if len(data) != 1 + 2 * curve.size or data[0] != 0x04:
        raise InvalidPoint("not an uncompressed point of the right size")
    point = (int.from_bytes(data[1:1 + curve.size], "big"), int.from_bytes(data[1 + curve.size:], "big"))
    if not on_curve(curve, point):
        raise InvalidPoint("point is not on the curve")
    return point
