"""Passive authentication with EC keys: explicit parameters matched to named curves or verified with
the in-house ECDSA, hostile parameters refused, signature schemes from bare OIDs."""
from __future__ import annotations

import hashlib

import pytest
from asn1crypto import algos, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from firmware_app.emrtd.crypto import ec as curve_math
from firmware_app.emrtd.crypto.curves import NAMED_CURVES, match_named_curve
from firmware_app.emrtd.crypto.ecdsa import ecdsa_sign
from firmware_app.emrtd.errors import BadPublicKey
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, load_public_key
from firmware_app.emrtd.pa.signature import SignatureScheme, verify
from simulator.test_keys import ec_key
from simulator.test_pki import BRAINPOOL_P256T1, explicit_spki

MESSAGE = b"LDS security object"


def test_explicit_named_curve_maps_to_cryptography_and_compressed_points_decode():
    private = ec_key("ec-tests", "bp", "brainpoolP256r1")
    compressed = private.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.CompressedPoint)
    key = load_public_key(explicit_spki(NAMED_CURVES["brainpoolP256r1"], compressed))
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "brainpoolP256r1"
    assert key.public_numbers() == private.public_key().public_numbers()


def test_explicit_unknown_curve_uses_own_ecdsa():
    curve = BRAINPOOL_P256T1
    assert match_named_curve(curve) is None
    d = 0x1234567890ABCDEF
    point = curve_math.multiply(curve, d, curve_math.generator(curve))
    key = load_public_key(explicit_spki(curve, curve_math.encode_point(curve, point)))
    assert isinstance(key, ExplicitEcKey)
    r, s = ecdsa_sign(curve, d, hashlib.sha256(MESSAGE).digest(), nonce=987654321)
    der = algos.DSASignature({"r": r, "s": s}).dump()
    scheme = SignatureScheme("ecdsa", "sha256")
    assert verify(key, scheme, MESSAGE, der)
    assert not verify(key, scheme, MESSAGE + b"!", der)
    assert not verify(key, scheme, MESSAGE, b"\x30\x00")
    assert not verify(key, SignatureScheme("rsassa_pkcs1v15", "sha256"), MESSAGE, der)


def test_point_off_the_curve_is_refused():
    curve = NAMED_CURVES["brainpoolP256r1"]
    bad = b"\x04" + (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    with pytest.raises(BadPublicKey):
        load_public_key(explicit_spki(curve, bad))
    with pytest.raises(BadPublicKey):
        load_public_key(explicit_spki(BRAINPOOL_P256T1, bad))


def test_absurd_explicit_parameters_are_refused():
    huge = BRAINPOOL_P256T1.__class__("huge", (1 << 1279) - 1, 1, 1, 0, 0, 7, 1)
    spki = explicit_spki(huge, b"\x04" + bytes(320))
    with pytest.raises(BadPublicKey):
        load_public_key(keys.PublicKeyInfo.load(spki.dump()))


@pytest.mark.parametrize("field", ["p", "n", "h"])
def test_hostile_explicit_parameters_are_refused(field):
    from dataclasses import replace

    curve = NAMED_CURVES["brainpoolP256r1"]
    hostile = replace(curve, **{field: {"p": curve.p + 2, "n": curve.n - 1, "h": 1 << 64}[field]})
    point = curve_math.encode_point(curve, curve_math.generator(curve))
    with pytest.raises(BadPublicKey):
        load_public_key(explicit_spki(hostile, point))


@pytest.mark.parametrize("oid,kind,hash_name", [
    ("1.2.840.113549.1.1.1", "rsassa_pkcs1v15", "sha384"),  # bare rsaEncryption: the digest comes from SignerInfo
    ("1.2.840.10045.2.1", "ecdsa", "sha384"),  # bare ecPublicKey, seen in real SODs
    ("sha256_ecdsa", "ecdsa", "sha256"),
])
def test_signature_scheme_from_bare_algorithm_oids(oid, kind, hash_name):
    from firmware_app.emrtd.pa.signature import scheme_from_asn1

    scheme = scheme_from_asn1(algos.SignedDigestAlgorithm({"algorithm": oid}), fallback_hash="sha384")
    assert (scheme.kind, scheme.hash_name) == (kind, hash_name)


def test_unknown_signature_algorithm_is_typed():
    from firmware_app.emrtd.errors import UnsupportedAlgorithm
    from firmware_app.emrtd.pa.signature import scheme_from_asn1

    with pytest.raises(UnsupportedAlgorithm):
        scheme_from_asn1(algos.SignedDigestAlgorithm({"algorithm": "1.2.3.4"}), "sha256")
