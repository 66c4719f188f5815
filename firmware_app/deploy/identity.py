"""The gate's key pair and certificate signing request. The private key is made here, on the
device, and never leaves it: only the CSR (public key, CN = device id) goes to the post's CA."""
from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AttributeOID, NameOID

from .errors import DeployError

MAX_PEM_BYTES = 64 * 1024
KEY_CURVE = ec.SECP256R1()      # what mosquitto and a Pi handle fastest; the CA may use any key
MIN_RSA_BITS = 2048


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(KEY_CURVE)


def private_key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(data: bytes):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise DeployError(f"not an unencrypted PEM private key ({exc})") from None


def make_csr(key, device_id: str, token: str | None = None) -> x509.CertificateSigningRequest:
    """CN = device id; a one-time enrolment token rides along as the challengePassword (as in SCEP),
    so the CA laptop can tell which enrolment this CSR belongs to."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
    if token:
        builder = builder.add_attribute(AttributeOID.CHALLENGE_PASSWORD, token.encode("utf-8"))
    return builder.sign(key, hashes.SHA256())


def csr_pem(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CsrFacts:
    common_name: str
    token: str | None
    public_key: CertificatePublicKeyTypes


def read_csr(data: bytes) -> CsrFacts:
    """Parse and check a CSR: bounded, self-signature valid, one CN, an acceptable key."""
    if len(data) > MAX_PEM_BYTES:
        raise DeployError(f"CSR larger than {MAX_PEM_BYTES} bytes")
    try:
        csr = (x509.load_pem_x509_csr(data) if data.lstrip().startswith(b"-----")
               else x509.load_der_x509_csr(data))
    except ValueError as exc:
        raise DeployError(f"not a certificate signing request ({exc})") from None
    if not csr.is_signature_valid:
        raise DeployError("the CSR's signature does not verify (not made with its own key)")
    names = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if len(names) != 1:
        raise DeployError(f"the CSR must name exactly one CN (the device id), it names {len(names)}")
    check_public_key(csr.public_key())
    return CsrFacts(str(names[0]), _challenge(csr), csr.public_key())


def check_public_key(public_key) -> None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise DeployError(f"EC curve {public_key.curve.name} is not accepted (P-256, P-384, P-521)")
        return
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise DeployError(f"RSA key of {public_key.key_size} bits is too short (at least {MIN_RSA_BITS})")
        return
    raise DeployError(f"key type {type(public_key).__name__} is not accepted (EC P-256/384/521 or RSA)")


def _challenge(csr: x509.CertificateSigningRequest) -> str | None:
    try:
        value = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
    except x509.AttributeNotFound:
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def same_public_key(a, b) -> bool:
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(*der) == b.public_bytes(*der)


def load_certificate(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise DeployError(f"not a PEM certificate ({exc})") from None
