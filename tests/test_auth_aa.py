"""Active authentication verification: RSA ISO/IEC 9796-2 and plain ECDSA, genuine and cloned chips."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.chip_auth.aa import verify_active_authentication, verify_plain_ecdsa
from firmware_app.emrtd.chip_auth.result import ChipCheckReason
from firmware_app.emrtd.crypto import ec as curve_math
from firmware_app.emrtd.crypto.ecdsa import ecdsa_sign
from firmware_app.emrtd.lds import parse_dg14, parse_dg15
from firmware_app.emrtd.lds.dg15 import Dg15
from firmware_app.emrtd.pa.public_key import load_public_key
from passport_helpers import passport
from simulator.chip_keys import active_auth_sign, iso9796_2_sign
from simulator.passport_factory import AaKind, Forgery
from simulator.test_pki import BRAINPOOL_P256T1, explicit_spki
from tests.chip_fixtures import seeded_rng

CHALLENGE = bytes.fromhex("4608F91988702212")


def _files(aa: AaKind, clone: bool = False):
    document = passport(aa=aa, forgery=Forgery(clone=clone))
    return document, parse_dg15(document.files["DG15"]), parse_dg14(document.files["DG14"])


@pytest.mark.parametrize("aa", [AaKind.RSA, AaKind.EC])
def test_genuine_chip_passes_and_clone_fails(aa):
    document, dg15, dg14 = _files(aa)
    signature = active_auth_sign(document.aa_private_key, CHALLENGE, seeded_rng(7))
    result = verify_active_authentication(dg15, CHALLENGE, signature, dg14)
    assert result.performed and result.passed and result.reason is ChipCheckReason.PASSED
    other_challenge = verify_active_authentication(dg15, bytes(8), signature, dg14)
    assert other_challenge.reason is ChipCheckReason.SIGNATURE_INVALID
    clone, clone_dg15, clone_dg14 = _files(aa, clone=True)
    forged = active_auth_sign(clone.aa_private_key, CHALLENGE, seeded_rng(7))
    cloned = verify_active_authentication(clone_dg15, CHALLENGE, forged, clone_dg14)
    assert cloned.performed and not cloned.passed and cloned.reason is ChipCheckReason.SIGNATURE_INVALID


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_iso9796_2_trailers(hash_name):
    document, dg15, _ = _files(AaKind.RSA)
    signature = iso9796_2_sign(document.aa_private_key, CHALLENGE, seeded_rng(7), hash_name)
    assert verify_active_authentication(dg15, CHALLENGE, signature).passed


def test_iso9796_2_accepts_the_n_minus_s_form_and_rejects_bad_lengths():
    document, dg15, _ = _files(AaKind.RSA)
    signature = iso9796_2_sign(document.aa_private_key, CHALLENGE, seeded_rng(7))
    n = document.aa_private_key.public_key().public_numbers().n
    flipped = (n - int.from_bytes(signature, "big")).to_bytes(len(signature), "big")
    assert verify_active_authentication(dg15, CHALLENGE, flipped).passed
    assert not verify_active_authentication(dg15, CHALLENGE, signature[1:]).passed
    assert not verify_active_authentication(dg15, CHALLENGE, n.to_bytes(128, "big")).passed


def test_ecdsa_needs_the_algorithm_from_dg14():
    document, dg15, _ = _files(AaKind.EC)
    signature = active_auth_sign(document.aa_private_key, CHALLENGE, seeded_rng(7))
    result = verify_active_authentication(dg15, CHALLENGE, signature, None)
    assert result.reason is ChipCheckReason.UNSUPPORTED_ALGORITHM and not result.passed


def test_explicit_parameter_aa_key_uses_own_ecdsa():
    curve, d = BRAINPOOL_P256T1, 0xC0FFEE
    point = curve_math.encode_point(curve, curve_math.multiply(curve, d, curve_math.generator(curve)))
    key = load_public_key(explicit_spki(curve, point))
    r, s = ecdsa_sign(curve, d, hashlib.sha256(CHALLENGE).digest(), nonce=99991)
    plain = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_plain_ecdsa(key, "sha256", CHALLENGE, plain)
    assert not verify_plain_ecdsa(key, "sha256", bytes(8), plain)


def test_challenge_must_be_8_bytes():
    _, dg15, _ = _files(AaKind.RSA)
    with pytest.raises(ValueError):
        verify_active_authentication(dg15, b"\x00" * 7, b"")


def test_result_json_shape():
    document, dg15, _ = _files(AaKind.RSA)
    signature = iso9796_2_sign(document.aa_private_key, CHALLENGE, seeded_rng(7))
    result = verify_active_authentication(dg15, CHALLENGE, signature)
    assert result.to_json() == {"check": "AA", "performed": True, "passed": True, "reason": "PASSED", "detail": ""}


@pytest.mark.parametrize("aa", [AaKind.RSA, AaKind.EC])
@settings(max_examples=80, deadline=None)
@given(signature=st.binary(max_size=200))
def test_arbitrary_answers_never_pass_or_crash(aa, signature):
    _, dg15, dg14 = _files(aa)
    assert isinstance(dg15, Dg15)
    assert not verify_active_authentication(dg15, CHALLENGE, signature, dg14).passed


def test_check_failure_reason_is_decided_by_the_error_type():
    from asn1crypto import keys

    from firmware_app.emrtd.chip_auth.result import ChipCheck, parse_for_checks
    from firmware_app.emrtd.lds.dg15 import encode_dg15

    dsa = keys.PublicKeyInfo({"algorithm": {"algorithm": "dsa", "parameters": {"p": 23, "q": 11, "g": 4}},
                              "public_key": keys.Integer(9)})
    parsed, unsupported = parse_for_checks(parse_dg15, encode_dg15(dsa.dump()), ChipCheck.ACTIVE_AUTHENTICATION)
    assert parsed is None and unsupported.reason is ChipCheckReason.UNSUPPORTED_ALGORITHM
    _, malformed = parse_for_checks(parse_dg15, encode_dg15(b"\x30\x03\x02\x01"), ChipCheck.ACTIVE_AUTHENTICATION)
    assert malformed.performed and not malformed.passed and malformed.reason is ChipCheckReason.BAD_KEY
