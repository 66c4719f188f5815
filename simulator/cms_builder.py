"""Build CMS SignedData the way issuing states do (EF.SOD, ICAO master lists). Test use only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509

from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.pa.signature import digest
from simulator.test_pki import Authority, SigningKey


@dataclass(frozen=True)
class SignerId:
    """How the SignerInfo names its certificate, as issuers do it: issuer and serial (optionally
    with the issuer name written differently from the certificate), or subjectKeyIdentifier."""

    by_key_identifier: bool = False
    issuer_name: x509.Name | None = None
    key_identifier: bytes | None = None  # default: the certificate's subjectKeyIdentifier


def signed_data(content_type: str, content: bytes, signer: Authority, signing_time: datetime,
                signing_key: SigningKey | None = None, hash_name: str = "sha256",
                include_certificate: bool = True, sid: SignerId = SignerId()) -> bytes:
    """ContentInfo(SignedData) with signed attributes; signing_key overrides the signer's own key
    (a forgery: the certificate then does not match the signature)."""
    signer_info = _signer_info(content_type, content, signer, signing_time, signing_key or signer.key, hash_name, sid)
    data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": hash_name}],
        "encap_content_info": {"content_type": content_type, "content": content},
        "certificates": [signer.certificate] if include_certificate else None,
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": data}).dump()


def _sid(signer: Authority, sid: SignerId) -> cms.SignerIdentifier:
    if sid.by_key_identifier:
        key_id = sid.key_identifier or signer.certificate.key_identifier
        return cms.SignerIdentifier(name="subject_key_identifier", value=key_id)
    return cms.SignerIdentifier(name="issuer_and_serial_number", value={
        "issuer": sid.issuer_name or signer.certificate.issuer, "serial_number": signer.serial})


def _signer_info(content_type: str, content: bytes, signer: Authority, signing_time: datetime,
                 key: SigningKey, hash_name: str, sid: SignerId = SignerId()) -> cms.SignerInfo:
    signer_info = cms.SignerInfo({
        "version": "v3" if sid.by_key_identifier else "v1",
        "sid": _sid(signer, sid),
        "digest_algorithm": {"algorithm": hash_name},
        "signed_attrs": [
            {"type": "content_type", "values": [content_type]},
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]},
            {"type": "message_digest", "values": [digest(hash_name, content)]},
        ],
        "signature_algorithm": key.signature_algorithm(),
        "signature": b"",
    })
    # the signature covers the attributes as a DER SET (tag 31), not as the [0] field
    signer_info["signature"] = key.sign(b"\x31" + signer_info["signed_attrs"].dump()[1:])
    return signer_info


def master_list(cscas: list[bytes], signer: Authority, signing_time: datetime) -> bytes:
    """An ICAO CSCA master list (9303-12 section 8) signed by `signer` (issued by one of the CSCAs)."""
    body = asn1.CscaMasterList({"version": 0, "cert_list": [x509.Certificate.load(c) for c in cscas]})
    return signed_data(asn1.ID_CSCA_MASTER_LIST, body.dump(), signer, signing_time)
