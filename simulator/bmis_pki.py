"""Throw-away PKI for a test MQTT broker: a CA, a server certificate for loopback and one client
certificate per gate (the certificate's CN is the gate's identity on the broker).

Keys are P-256 (fast to make); everything is written under one directory, never into the repo.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=2)


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class TestPki:
    ca: Path
    server: KeyPair
    devices: dict[str, KeyPair] = field(default_factory=dict)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "border-gate test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _builder(subject: str, issuer: x509.Name, public_key, now: dt.datetime) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALIDITY))


def _make_ca(directory: Path, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder("test BMIS CA", _name("test BMIS CA"), key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.pem").chmod(0o644)
    return key, cert


def _issue(directory: Path, stem: str, common_name: str, ca, now: dt.datetime, server: bool) -> KeyPair:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (_builder(common_name, ca_cert.subject, key.public_key(), now)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    pair = KeyPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    pair.cert.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    pair.cert.chmod(0o644)
    _write_key(key, pair.key)
    return pair


def make_test_pki(directory: Path, device_ids: list[str], now: dt.datetime | None = None) -> TestPki:
    """CA + loopback server certificate + a client certificate per device id (CN = device id)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # `gatectl config check` refuses keys in a directory others may write to
    now = now or dt.datetime.now(dt.UTC)
    ca = _make_ca(directory, now)
    server = _issue(directory, "server", "localhost", ca, now, server=True)
    devices = {d: _issue(directory, f"device-{d}", d, ca, now, server=False) for d in device_ids}
    return TestPki(directory / "ca.pem", server, devices)
