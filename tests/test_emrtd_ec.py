"""Own EC arithmetic agrees with `cryptography` on every supported standard curve."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings, strategies as st

from firmware_app.emrtd import domains
from firmware_app.emrtd.ec import InvalidPoint, add, decode_point, encode_point, generator, multiply, on_curve

CURVES = [
    (domains.P256, crypto_ec.SECP256R1()), (domains.P384, crypto_ec.SECP384R1()),
    (domains.P521, crypto_ec.SECP521R1()), (domains.BRAINPOOLP256R1, crypto_ec.BrainpoolP256R1()),
    (domains.BRAINPOOLP384R1, crypto_ec.BrainpoolP384R1()), (domains.BRAINPOOLP512R1, crypto_ec.BrainpoolP512R1()),
]


@pytest.mark.parametrize("curve, reference", CURVES, ids=lambda c: getattr(c, "name", ""))
def test_public_key_matches_cryptography(curve, reference):
    secret = 0x1234567890ABCDEF1234567890ABCDEF % curve.n
    expected = crypto_ec.derive_private_key(secret, reference).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    point = multiply(curve, secret, generator(curve))
    assert encode_point(curve, point) == expected
    assert decode_point(curve, expected) == point


@settings(max_examples=20, deadline=None)
@given(st.integers(1, domains.P256.n - 1), st.integers(1, domains.P256.n - 1))
def test_scalar_multiplication_is_linear(a, b):
    curve, g = domains.P256, generator(domains.P256)
    assert add(curve, multiply(curve, a, g), multiply(curve, b, g)) == multiply(curve, a + b, g)


def test_order_times_generator_is_infinity_and_bad_points_rejected():
    curve = domains.BRAINPOOLP256R1
    assert multiply(curve, curve.n, generator(curve)) is None
    assert on_curve(curve, generator(curve))
    good = encode_point(curve, generator(curve))
    with pytest.raises(InvalidPoint):
        decode_point(curve, good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(InvalidPoint):
        decode_point(curve, good[:-1])
