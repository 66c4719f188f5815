"""Enrolment on the post's CA laptop: `gatectl pki enrol-token` and `gatectl pki sign-device`
with a CA made by the real openssl, the result checked by `openssl verify -purpose sslclient`."""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.deploy.errors import DeployError, EnrolmentRefused, RefusalReason
from firmware_app.deploy.identity import csr_pem, make_csr, read_csr
from firmware_app.deploy.tokens import TokenStore
from tests.deploy_helpers import issue_token, make_openssl_ca, needs_openssl, openssl, provision_args, run_cli

pytestmark = needs_openssl


@pytest.fixture
def laptop(tmp_path):
    ca = make_openssl_ca(tmp_path / "laptop")
    return ca, tmp_path / "laptop" / "tokens.db"


@pytest.fixture
def gate_csr(tmp_path, capsys):
    assert run_cli(capsys, *provision_args(tmp_path))[0] == 0
    return tmp_path / "state/identity/client.csr"


def _sign(capsys, csr, ca, tokens, token=None, *extra):
    args = ["pki", "sign-device", str(csr), "--ca-cert", str(ca.cert), "--ca-key", str(ca.key),
            "--tokens", str(tokens), "--json", *extra]
    return run_cli(capsys, *(args + (["--token", token] if token else [])))


def test_a_signed_certificate_is_a_client_certificate_for_the_device(tmp_path, laptop, gate_csr, capsys):
    ca, tokens = laptop
    token = issue_token(capsys, tokens)
    config = tmp_path / "laptop.toml"
    config.write_text('[device]\nid = "ca-laptop"\npost_id = "post-t"\n[reader]\nurl = "sim://"\n'
                      "[identity]\ncert_validity_days = 90\nrenew_before_days = 20\n")
    code, out, err = _sign(capsys, gate_csr, ca, tokens, token, "--config", str(config),
                           "--out", str(tmp_path / "gate-a.crt"))
    assert code == 0, err and json.loads(out)["signed"]
    pem = (tmp_path / "gate-a.crt").read_bytes()
    assert b": OK" in openssl("verify", "-CAfile", str(ca.cert), "-purpose", "sslclient", str(tmp_path / "gate-a.crt"))
    cert = x509.load_pem_x509_certificate(pem)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["gate-a"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    # the gate takes it
    code, _, err = run_cli(capsys, "cert", "install", str(tmp_path / "gate-a.crt"),
                           "--config", str(tmp_path / "etc/gate.toml"))
    assert code == 0, err
    assert (tmp_path / "state/identity/client.crt").read_bytes() == pem


def test_a_token_works_once(laptop, gate_csr, capsys):
    ca, tokens = laptop
    token = issue_token(capsys, tokens)
    assert _sign(capsys, gate_csr, ca, tokens, token)[0] == 0
    code, out, err = _sign(capsys, gate_csr, ca, tokens, token)
    assert code == 1 and json.loads(out)["reason"] == "token_used" and "already used" in err


def test_a_token_issued_for_another_device_or_never_issued_is_refused(laptop, gate_csr, capsys):
    ca, tokens = laptop
    other = issue_token(capsys, tokens, "gate-z")
    code, out, _ = _sign(capsys, gate_csr, ca, tokens, other)
    assert code == 1 and json.loads(out)["reason"] == "token_other_device"
    code, out, _ = _sign(capsys, gate_csr, ca, tokens, "AAAA-BBBB-CCCC")
    assert code == 1 and json.loads(out)["reason"] == "token_unknown"
    code, out, _ = _sign(capsys, gate_csr, ca, tokens, None)
    assert code == 1 and json.loads(out)["reason"] == "token_unknown"
    # the refused attempts did not spend the right token... there is none for gate-a yet; issue one now
    assert _sign(capsys, gate_csr, ca, tokens, issue_token(capsys, tokens))[0] == 0


def test_the_token_in_the_csr_is_enough(tmp_path, laptop, capsys):
    ca, tokens = laptop
    token = issue_token(capsys, tokens)
    assert run_cli(capsys, *provision_args(tmp_path), "--token", token.lower().replace("-", " "))[0] == 0
    code, _, err = _sign(capsys, tmp_path / "state/identity/client.csr", ca, tokens, None)
    assert code == 0, err


def test_an_expired_token_is_refused(tmp_path):
    store, now = TokenStore(tmp_path / "t.db"), datetime(2026, 1, 1, tzinfo=UTC)
    token = store.issue("gate-a", now, timedelta(hours=1), os.urandom)
    with pytest.raises(EnrolmentRefused) as refused:
        store.spend(token, "gate-a", now + timedelta(hours=2), "1")
    assert refused.value.reason is RefusalReason.TOKEN_EXPIRED
    store.spend(token, "gate-a", now + timedelta(minutes=59), "1")     # still unspent after the refusal
    assert store.listing()[0]["used_at"] is not None
    assert (tmp_path / "t.db").stat().st_mode & 0o077 == 0


def test_the_ca_laptop_refuses_a_csr_not_signed_by_its_own_key_and_a_leaf_as_ca(tmp_path, laptop, gate_csr, capsys):
    ca, tokens = laptop
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    der = bytearray(make_csr(key, "gate-a").public_bytes(Encoding.DER))
    der[-1] ^= 0x01                                       # the signature's last byte: no longer its own
    bad = tmp_path / "bad.csr"
    bad.write_bytes(bytes(der))
    with pytest.raises(DeployError, match="signature"):
        read_csr(bytes(der))
    token = issue_token(capsys, tokens)
    code, out, _ = _sign(capsys, bad, ca, tokens, token)
    assert code == 1 and json.loads(out)["reason"] == "bad_csr"
    two_cn = tmp_path / "two.csr"
    two_cn.write_bytes(csr_pem(x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "gate-a"), x509.NameAttribute(NameOID.COMMON_NAME, "gate-b")]))
        .sign(other, hashes.SHA256())))
    code, out, _ = _sign(capsys, two_cn, ca, tokens, token)
    assert code == 1 and json.loads(out)["reason"] == "bad_csr"
    leaf = tmp_path / "leaf.crt"
    code, _, _ = _sign(capsys, gate_csr, ca, tokens, token, "--out", str(leaf))
    assert code == 0                                     # the refusals above did not spend the token
    code, out, _ = run_cli(capsys, "pki", "sign-device", str(gate_csr), "--ca-cert", str(leaf), "--ca-key",
                           str(tmp_path / "state/identity/client.key"), "--tokens", str(tokens), "--json",
                           "--token", issue_token(capsys, tokens))
    assert code == 1 and json.loads(out)["reason"] == "bad_ca"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_read_csr_refuses_any_garbage_with_a_typed_error(data):
    try:
        read_csr(data)
    except DeployError:
        pass
