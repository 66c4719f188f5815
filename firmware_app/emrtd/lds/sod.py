"""EF.SOD: CMS SignedData carrying the LDS security object (data-group hashes).

Only structure is checked here; the signature, signer and trust chain are passive authentication's
job (firmware_app.emrtd.pa).
"""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms, x509

from firmware_app.emrtd.errors import LdsFormatError, LdsUnsupported, SodContentTypeError
from firmware_app.emrtd.files import SOD_TAG
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import file_errors, unwrap

FILE = "EF.SOD"
ID_DATA = "1.2.840.113549.1.7.1"
# Encapsulated content types seen in issued passports, each with the warning it earns. The LDS
# security object is the same structure under each; only the ICAO OID is the standard one.
CONTENT_TYPES = {
    asn1.ID_LDS_SECURITY_OBJECT: None,
    ID_DATA: "SOD content type is id-data, not the ICAO LDS security object OID",
    # ICAO "PKI for MRTDs offering ICC read-only access" v1.1 Annex C, in early French and Belgian passports
    "1.3.27.1.1.1": "SOD content type is the pre-2006 ICAO OID 1.3.27.1.1.1",
    # Sdu (Netherlands) worked example, carried into some early documents
    "1.2.528.1.1006.1.20.1": "SOD content type is the legacy Sdu OID 1.2.528.1.1006.1.20.1",
}
HASH_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
MAX_CERTIFICATES = 8


@dataclass(frozen=True)
class SecurityObject:
    hash_algorithm: str
    dg_hashes: dict[int, bytes]
    lds_version: str | None
    signed_data: cms.SignedData
    signer_info: cms.SignerInfo
    encapsulated_content: bytes  # the DER LDSSecurityObject the signature covers
    certificates: tuple[x509.Certificate, ...]
    content_type: str = asn1.ID_LDS_SECURITY_OBJECT  # dotted eContentType
    warnings: tuple[str, ...] = ()


def parse_sod(data: bytes) -> SecurityObject:
    with file_errors(FILE):
        return _parse_content_info(unwrap(data, SOD_TAG, FILE))


def _parse_content_info(der: bytes) -> SecurityObject:
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise LdsFormatError(FILE, "content is not CMS SignedData")
    signed = info["content"]
    signer_infos = signed["signer_infos"]
    if len(signer_infos) != 1:
        raise LdsFormatError(FILE, f"{len(signer_infos)} signer infos (ICAO requires exactly one)")
    encap = signed["encap_content_info"]
    content_type = encap["content_type"].dotted
    if content_type not in CONTENT_TYPES:
        raise SodContentTypeError(FILE, f"encapsulated content type {content_type} is no LDS security object")
    _ = signer_infos[0].native  # asn1crypto is lazy: decode everything now, inside file_errors
    content = encap["content"].native  # bytes inside the OCTET STRING (BER segments joined)
    if not isinstance(content, bytes) or not content:
        raise LdsFormatError(FILE, "LDSSecurityObject content is absent")
    algorithm, hashes, version = _parse_security_object(content)
    warning = CONTENT_TYPES[content_type]
    return SecurityObject(algorithm, hashes, version, signed, signer_infos[0], content,
                          signed_data_certificates(signed), content_type, (warning,) if warning else ())


def _parse_security_object(der: bytes) -> tuple[str, dict[int, bytes], str | None]:
    lso = asn1.LdsSecurityObject.load(der, strict=True)
    if lso["version"].native not in (0, 1):
        raise LdsFormatError(FILE, f"LDSSecurityObject version {lso['version'].native}")
    algorithm = lso["hash_algorithm"]["algorithm"].native
    if algorithm not in HASH_SIZES:
        raise LdsUnsupported(FILE, f"hash algorithm {algorithm}")
    hashes: dict[int, bytes] = {}
    for entry in lso["data_group_hash_values"]:
        number, value = entry["data_group_number"].native, entry["data_group_hash_value"].native
        if not 1 <= number <= 16 or number in hashes or len(value) != HASH_SIZES[algorithm]:
            raise LdsFormatError(FILE, f"bad data-group hash entry for DG{number}")
        hashes[number] = value
    info = lso["lds_version_info"]
    version = None if info.native is None else info["lds_version"].native
    return algorithm, hashes, version


def signed_data_certificates(signed: cms.SignedData, file: str = FILE) -> tuple[x509.Certificate, ...]:
    """The certificates a chip's SignedData carries (EF.SOD, EF.CardSecurity), at most MAX_CERTIFICATES,
    fully parsed while errors still map to LdsFormatError."""
    choices = signed["certificates"]
    if choices.native is None:
        return ()
    if len(choices) > MAX_CERTIFICATES:
        raise LdsFormatError(file, "too many certificates")
    certs = tuple(c.chosen for c in choices if c.name == "certificate")
    for cert in certs:
        _ = cert.native  # force the full (lazy) parse while errors still map to LdsFormatError
    return certs
