"""The one EC arithmetic (emrtd.crypto) and its curve/domain tables, checked against `cryptography`."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.crypto.curves import CRYPTOGRAPHY_CURVES, NAMED_CURVES
from firmware_app.emrtd.crypto.dh import DhGroup
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.crypto.ec import (
    add,
    decode_point,
    encode_point,
    generator,
    has_order_n,
    is_probable_prime,
    multiply,
    on_curve,
)
from firmware_app.emrtd.crypto.ecdsa import ecdsa_sign, ecdsa_verify
from firmware_app.emrtd.errors import InvalidPoint
from simulator.test_keys import ec_key

P256 = NAMED_CURVES["secp256r1"]
MESSAGE = b"LDS security object"


@pytest.mark.parametrize("name", sorted(NAMED_CURVES))
def test_curve_table_constants(name):
    curve = NAMED_CURVES[name]
    assert is_probable_prime(curve.p) and is_probable_prime(curve.n)
    assert on_curve(curve, generator(curve))
    assert has_order_n(curve, generator(curve))  # n*G = infinity, computed without reducing n


@pytest.mark.parametrize("parameter_id", sorted(STANDARD_PARAMETERS))
def test_standard_parameter_ids_are_consistent(parameter_id):
    domain = STANDARD_PARAMETERS[parameter_id]
    if isinstance(domain, DhGroup):
        assert parameter_id in (0, 1, 2) and domain.in_subgroup(domain.g)
    else:
        assert 8 <= parameter_id <= 18 and domain.h == 1


@pytest.mark.parametrize("name", sorted(CRYPTOGRAPHY_CURVES))
def test_public_key_matches_cryptography(name):
    curve = NAMED_CURVES[name]
    secret = 0x1234567890ABCDEF1234567890ABCDEF % curve.n
    public = crypto_ec.derive_private_key(secret, CRYPTOGRAPHY_CURVES[name]()).public_key()
    point = multiply(curve, secret, generator(curve))
    assert encode_point(curve, point) == public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    for fmt in (PublicFormat.CompressedPoint, PublicFormat.UncompressedPoint):
        assert decode_point(curve, public.public_bytes(Encoding.X962, fmt)) == point


def test_compressed_points_on_a_p_1_mod_4_field():
    curve = NAMED_CURVES["secp224r1"]  # p = 1 (mod 4): needs full Tonelli-Shanks
    assert curve.p % 4 == 1
    public = ec_key("ec-tests", "p224", "secp224r1").public_key()
    numbers = public.public_numbers()
    compressed = public.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    assert decode_point(curve, compressed) == (numbers.x, numbers.y)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, P256.n - 1), st.integers(1, P256.n - 1))
def test_scalar_multiplication_is_linear(a, b):
    g = generator(P256)
    assert add(P256, multiply(P256, a, g), multiply(P256, b, g)) == multiply(P256, a + b, g)


def test_scalars_are_reduced_modulo_the_order():
    curve, g = NAMED_CURVES["brainpoolP256r1"], generator(NAMED_CURVES["brainpoolP256r1"])
    assert multiply(curve, curve.n + 5, g) == multiply(curve, 5, g) != multiply(curve, 6, g)
    assert multiply(curve, -1, g) == multiply(curve, curve.n - 1, g)
    assert multiply(curve, curve.n, g) is None and multiply(curve, 0, g) is None


def test_bad_points_are_rejected():
    curve = NAMED_CURVES["brainpoolP256r1"]
    good = encode_point(curve, generator(curve))
    bad_encodings = [good[:-1] + bytes([good[-1] ^ 1]), good[:-1], b"\x00", b"\x05" + good[1:],
                     b"\x02" + curve.p.to_bytes(32, "big"), b""]
    for encoding in bad_encodings:
        with pytest.raises(InvalidPoint):
            decode_point(curve, encoding)
    with pytest.raises(InvalidPoint):
        encode_point(curve, None)


def test_points_outside_the_prime_order_subgroup_are_rejected():
    # y^2 = x^3 + 1 over GF(11) has 12 points; call its order-3 subgroup the "group", cofactor 4
    toy = replace(P256, name="toy", p=11, a=0, b=1, gx=0, gy=1, n=3, h=4)
    assert has_order_n(toy, (0, 1))
    assert decode_point(toy, bytes([4, 0, 1])) == (0, 1)
    with pytest.raises(InvalidPoint):
        decode_point(toy, bytes([4, 2, 3]))  # on the curve, but of order 6


@pytest.mark.parametrize("name", sorted(CRYPTOGRAPHY_CURVES))
def test_own_ecdsa_agrees_with_cryptography(name):
    curve = NAMED_CURVES[name]
    private = ec_key("ec-tests", name, name)
    public = private.public_key().public_numbers()
    digest = hashlib.sha256(MESSAGE).digest()
    r, s = decode_dss_signature(private.sign(MESSAGE, crypto_ec.ECDSA(hashes.SHA256())))
    assert ecdsa_verify(curve, (public.x, public.y), digest, r, s)
    assert not ecdsa_verify(curve, (public.x, public.y), hashlib.sha256(b"other").digest(), r, s)
    own_r, own_s = ecdsa_sign(curve, private.private_numbers().private_value, digest, nonce=123456789)
    private.public_key().verify(encode_dss_signature(own_r, own_s), MESSAGE, crypto_ec.ECDSA(hashes.SHA256()))


@settings(max_examples=60, deadline=None)
@given(r=st.integers(min_value=-5, max_value=1 << 260), s=st.integers(min_value=-5, max_value=1 << 260))
def test_random_signatures_never_verify_or_crash(r, s):
    from simulator.test_pki import BRAINPOOL_P256T1 as curve

    public = multiply(curve, 42, generator(curve))
    assert not ecdsa_verify(curve, public, hashlib.sha256(MESSAGE).digest(), r, s)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=70))
def test_decoding_hostile_bytes_gives_a_point_or_invalid_point(data):
    curve = NAMED_CURVES["secp224r1"]
    try:
        point = decode_point(curve, data)
    except InvalidPoint:
        return
    assert on_curve(curve, point)
