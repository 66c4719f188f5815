"""Ed25519 command signatures: canonical bytes, good/unsigned/wrong key/tampered, trust store."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.commands.signing import (
    SignatureStatus,
    TrustStore,
    key_id_of,
    public_key_pem,
    sign_command,
    signing_bytes,
    verify_command,
)
from firmware_app.bmis.errors import NotCanonical, TrustStoreError

TOPIC = "gates/v1/gate-01/cmd/set-mode"
COMMAND = {"msg_id": "c-1", "device_id": "gate-01", "expires_at": "2026-01-01T00:10:00Z",
           "params": {"mode": "closed"}, "name": "ÆSIR"}


@pytest.fixture(scope="module")
def bmis_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def trust(bmis_key):
    return TrustStore.of(bmis_key.public_key())


def test_canonical_bytes_ignore_key_order_and_signature_member():
    reordered = dict(reversed(list(COMMAND.items())))
    with_signature = {**COMMAND, "signature": {"anything": 1}}
    assert signing_bytes(TOPIC, reordered) == signing_bytes(TOPIC, COMMAND)
    assert signing_bytes(TOPIC, with_signature) == signing_bytes(TOPIC, COMMAND)


def test_canonical_bytes_exact_form():
    data = signing_bytes("t", {"b": [1, True, None], "a": "é"})
    assert data == b"border-gate/bmis-cmd/v1\x00t\x00" + '{"a":"é","b":[1,true,null]}'.encode()


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": {"y": [float("nan")]}}, {"x": object()}])
def test_floats_and_odd_values_are_not_canonical(bad):
    with pytest.raises(NotCanonical):
        signing_bytes(TOPIC, bad)


def test_deep_nesting_is_not_canonical():
    deep: dict = {}
    for _ in range(30):
        deep = {"d": deep}
    with pytest.raises(NotCanonical):
        signing_bytes(TOPIC, deep)


def test_good_signature_verifies(bmis_key, trust):
    check = verify_command(TOPIC, sign_command(bmis_key, TOPIC, COMMAND), trust)
    assert check.valid and check.key_id == key_id_of(bmis_key.public_key())


def test_unsigned_is_missing(trust):
    assert verify_command(TOPIC, COMMAND, trust).status is SignatureStatus.MISSING


def test_wrong_key_is_unknown(trust):
    other = Ed25519PrivateKey.generate()
    check = verify_command(TOPIC, sign_command(other, TOPIC, COMMAND), trust)
    assert check.status is SignatureStatus.UNKNOWN_KEY


def test_forged_key_id_is_bad_signature(bmis_key, trust):
    forged = sign_command(Ed25519PrivateKey.generate(), TOPIC, COMMAND)
    forged["signature"]["key_id"] = key_id_of(bmis_key.public_key())
    assert verify_command(TOPIC, forged, trust).status is SignatureStatus.BAD_SIGNATURE


@pytest.mark.parametrize("change", [
    lambda c: c["params"].__setitem__("mode", "normal"),
    lambda c: c.__setitem__("expires_at", "2099-01-01T00:00:00Z"),
    lambda c: c.__setitem__("extra", 1),
    lambda c: c.pop("name"),
])
def test_tampered_command_is_bad_signature(bmis_key, trust, change):
    signed = sign_command(bmis_key, TOPIC, COMMAND)
    tampered = {**signed, "params": dict(signed["params"])}
    change(tampered)
    assert verify_command(TOPIC, tampered, trust).status is SignatureStatus.BAD_SIGNATURE


def test_other_topic_is_bad_signature(bmis_key, trust):
    signed = sign_command(bmis_key, TOPIC, COMMAND)
    moved = "gates/v1/gate-02/cmd/set-mode"
    assert verify_command(moved, signed, trust).status is SignatureStatus.BAD_SIGNATURE


@pytest.mark.parametrize("member, status", [
    ("sig", SignatureStatus.MALFORMED),
    ({"alg": "Ed25519", "key_id": "00", "value": "not base64!"}, SignatureStatus.MALFORMED),
    ({"alg": "Ed25519", "key_id": "00", "value": base64.b64encode(b"x" * 10).decode()},
     SignatureStatus.MALFORMED),
    ({"alg": "RS256", "key_id": "00", "value": "AA=="}, SignatureStatus.UNSUPPORTED_ALG),
    ({"alg": "Ed25519", "key_id": 5, "value": "AA=="}, SignatureStatus.MALFORMED),
])
def test_malformed_signature_members(trust, member, status):
    assert verify_command(TOPIC, {**COMMAND, "signature": member}, trust).status is status


def test_signed_command_with_float_is_malformed(bmis_key, trust):
    signed = sign_command(bmis_key, TOPIC, COMMAND)
    signed["params"] = {"mode": 1.5}
    assert verify_command(TOPIC, signed, trust).status is SignatureStatus.MALFORMED


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(body=st.dictionaries(st.text(max_size=6), json_values, max_size=5), topic=st.text(max_size=20))
def test_any_json_object_round_trips_and_never_raises(bmis_key, trust, body, topic):
    try:
        signed = sign_command(bmis_key, topic, body)
    except NotCanonical:  # only lone surrogates in generated text cannot be UTF-8
        return
    assert verify_command(topic, signed, trust).valid


@settings(max_examples=80, deadline=None)
@given(member=json_values)
def test_random_signature_members_never_raise(trust, member):
    assert not verify_command(TOPIC, {**COMMAND, "signature": member}, trust).valid


def test_trust_store_from_directory(tmp_path, bmis_key):
    (tmp_path / "bmis-a.pem").write_bytes(public_key_pem(bmis_key.public_key()))
    (tmp_path / "README").write_text("not a key, not a .pem: ignored")
    store = TrustStore.from_directory(tmp_path)
    assert store.key_ids == (key_id_of(bmis_key.public_key()),)


def test_trust_store_refuses_non_ed25519_and_garbage(tmp_path):
    ec_key = generate_private_key(SECP256R1()).public_key()
    (tmp_path / "ec.pem").write_bytes(ec_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(TrustStoreError, match="not an Ed25519 key"):
        TrustStore.from_directory(tmp_path)
    (tmp_path / "ec.pem").write_text("garbage")
    with pytest.raises(TrustStoreError, match="not a PEM public key"):
        TrustStore.from_directory(tmp_path)


def test_trust_store_missing_directory(tmp_path):
    with pytest.raises(TrustStoreError, match="cannot list"):
        TrustStore.from_directory(tmp_path / "absent")
