"""`gatectl pki sign-device`: the post's CA signs a gate's client certificate, once per token.

The certificate says only what the CA decides: CN = the device id the token was issued for, a
leaf (CA:false), digitalSignature, clientAuth, the validity of `[identity] cert_validity_days`
(never past the CA's own end). Extensions the CSR asks for are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import DeployError, EnrolmentRefused, RefusalReason
from .identity import CsrFacts, load_certificate, load_private_key, read_csr, same_public_key
from .tokens import TokenStore, normalise

BACKDATE = timedelta(minutes=5)     # a gate whose clock is a little behind still accepts it at once


@dataclass(frozen=True)
class Ca:
    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes


@dataclass(frozen=True)
class SignedDevice:
    device_id: str
    serial: str
    not_after: datetime
    pem: bytes


def load_ca(cert_pem: bytes, key_pem: bytes, now: datetime) -> Ca:
    try:
        cert, key = load_certificate(cert_pem), load_private_key(key_pem)
    except DeployError as exc:
        raise EnrolmentRefused(RefusalReason.BAD_CA, str(exc)) from None
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise EnrolmentRefused(RefusalReason.BAD_CA, "the CA certificate is not a CA (basicConstraints CA:true)")
    if not same_public_key(cert.public_key(), key.public_key()):
        raise EnrolmentRefused(RefusalReason.BAD_CA, "the CA key does not belong to the CA certificate")
    if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
        raise EnrolmentRefused(RefusalReason.BAD_CA, f"the CA certificate is not valid now "
                                                     f"(ends {cert.not_valid_after_utc:%Y-%m-%d})")
    return Ca(cert, key)


def csr_facts(csr_data: bytes) -> CsrFacts:
    try:
        return read_csr(csr_data)
    except DeployError as exc:
        raise EnrolmentRefused(RefusalReason.BAD_CSR, str(exc)) from None


def enrol(csr_data: bytes, token: str | None, ca: Ca, store: TokenStore, validity_days: int,
          now: datetime) -> SignedDevice:
    """Check the CSR and the token, spend the token, sign. A token in the CSR (challengePassword)
    must be the same as the one given, and either one is enough."""
    facts = csr_facts(csr_data)
    given = token or facts.token
    if not given:
        raise EnrolmentRefused(RefusalReason.TOKEN_UNKNOWN, "no enrolment token (give --token, or put it in "
                                                            "the CSR with gatectl provision --token)")
    if token and facts.token and normalise(token) != normalise(facts.token):
        raise EnrolmentRefused(RefusalReason.TOKEN_OTHER_DEVICE, "the token in the CSR is not the one given")
    serial = x509.random_serial_number()
    store.spend(given, facts.common_name, now, format(serial, "x"))
    cert = _sign(facts, ca, serial, validity_days, now)
    return SignedDevice(facts.common_name, format(serial, "x"), cert.not_valid_after_utc,
                        cert.public_bytes(serialization.Encoding.PEM))


def _sign(facts: CsrFacts, ca: Ca, serial: int, validity_days: int, now: datetime) -> x509.Certificate:
    not_after = min(now + timedelta(days=validity_days), ca.cert.not_valid_after_utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, facts.common_name)]))
               .issuer_name(ca.cert.subject).public_key(facts.public_key).serial_number(serial)
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(facts.public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.cert.public_key()), critical=False))  # type: ignore[arg-type]  # a CA key signs
    return builder.sign(ca.key, _digest_for(ca.key))


def _key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def _digest_for(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        return hashes.SHA256()
    raise EnrolmentRefused(RefusalReason.BAD_CA, f"CA key type {type(key).__name__} is not supported")
