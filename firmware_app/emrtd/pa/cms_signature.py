"""Verification of one CMS SignerInfo (RFC 5652 5.4-5.6), shared by EF.SOD and master lists."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum

from asn1crypto import cms, x509

from firmware_app.emrtd.errors import BadPublicKey, UnsupportedAlgorithm
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa import signature
from firmware_app.emrtd.pa.names import key_ids, same_name
from firmware_app.emrtd.pa.public_key import load_public_key


class SignerCheck(Enum):
    VALID = "valid"
    SIGNER_CERT_MISSING = "signer certificate missing"
    SIGNED_ATTRS_INVALID = "signed attributes invalid"
    SIGNATURE_INVALID = "signature invalid"
    UNSUPPORTED_ALGORITHM = "unsupported algorithm"


@dataclass(frozen=True)
class SignerResult:
    status: SignerCheck
    certificate: x509.Certificate | None
    detail: str = ""


def find_signer_certificate(signer_info: cms.SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate | None:
    """The certificate the SignerInfo names: issuer (normalised, any attribute order) and serial,
    or subjectKeyIdentifier (the extension, or the key's SHA-1 when the certificate has none)."""
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native
        return next((c for c in certs if c.serial_number == serial and same_name(c.issuer, issuer)), None)
    return next((c for c in certs if sid.chosen.native in key_ids(c)), None)


def check_signer_info(signer_info: cms.SignerInfo, content: bytes, certs: list[x509.Certificate],
                      certificate: x509.Certificate | None = None, *, content_type: str) -> SignerResult:
    """Check signed attributes and the signature; `certificate` overrides the lookup in `certs`.

    content_type: the dotted eContentType, which the contentType attribute must name (RFC 5652 11.1)."""
    try:
        cert = certificate or find_signer_certificate(signer_info, certs)
        if cert is None:
            return SignerResult(SignerCheck.SIGNER_CERT_MISSING, None)
        return _check(signer_info, content, cert, content_type)
    except (UnsupportedAlgorithm, BadPublicKey) as exc:
        return SignerResult(SignerCheck.UNSUPPORTED_ALGORITHM, cert, str(exc))
    except ASN1_DECODE_ERRORS as exc:
        return SignerResult(SignerCheck.SIGNATURE_INVALID, None, f"undecodable ({type(exc).__name__})")


def _check(signer_info: cms.SignerInfo, content: bytes, cert: x509.Certificate, content_type: str) -> SignerResult:
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    signed_bytes, problem = _signed_bytes(signer_info, content, digest_name, content_type)
    if problem:
        return SignerResult(SignerCheck.SIGNED_ATTRS_INVALID, cert, problem)
    scheme = signature.scheme_from_asn1(signer_info["signature_algorithm"], digest_name)
    key = load_public_key(cert.public_key)
    if not signature.verify(key, scheme, signed_bytes, signer_info["signature"].native):
        return SignerResult(SignerCheck.SIGNATURE_INVALID, cert)
    return SignerResult(SignerCheck.VALID, cert)


def _signed_bytes(signer_info: cms.SignerInfo, content: bytes, digest_name: str,
                  content_type: str) -> tuple[bytes, str]:
    """What the signature covers: the DER SET of signed attributes, or the content itself."""
    attrs = signer_info["signed_attrs"]
    if attrs.native is None:
        return content, ""
    digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if len(digests) != 1:
        return b"", "exactly one messageDigest attribute required"
    if not hmac.compare_digest(digests[0], signature.digest(digest_name, content)):
        return b"", "messageDigest does not match the content"
    types = [a["values"][0].dotted for a in attrs if a["type"].native == "content_type"]
    if len(types) != 1:
        return b"", "exactly one contentType attribute required"
    if types[0] != content_type:
        return b"", "contentType attribute does not name the signed content"
    # The signature covers the attributes encoded as a SET (tag 31), not as the [0] field.
    return b"\x31" + attrs.dump()[1:], ""
