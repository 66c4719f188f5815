"""EF.SOD: CMS SignedData carrying the LDS security object (data-group hashes).

Only structure is checked here; the signature, signer and trust chain are passive authentication's
job (firmware_app.emrtd.pa).
"""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms, x509

from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import file_errors, unwrap
from firmware_app.emrtd.lds.errors import LdsFormatError, LdsUnsupported
from firmware_app.emrtd.lds.files import SOD_TAG

FILE = "EF.SOD"
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
    if encap["content_type"].dotted != asn1.ID_LDS_SECURITY_OBJECT:
        raise LdsFormatError(FILE, "encapsulated content is not an LDSSecurityObject")
    _ = signer_infos[0].native  # asn1crypto is lazy: decode everything now, inside file_errors
    content = encap["content"].native  # bytes inside the OCTET STRING (BER segments joined)
    if not isinstance(content, bytes) or not content:
        raise LdsFormatError(FILE, "LDSSecurityObject content is absent")
    algorithm, hashes, version = _parse_security_object(content)
    return SecurityObject(algorithm, hashes, version, signed, signer_infos[0], content, _certificates(signed))


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


def _certificates(signed: cms.SignedData) -> tuple[x509.Certificate, ...]:
    choices = signed["certificates"]
    if choices.native is None:
        return ()
    if len(choices) > MAX_CERTIFICATES:
        raise LdsFormatError(FILE, "too many certificates")
    certs = tuple(c.chosen for c in choices if c.name == "certificate")
    for cert in certs:
        _ = cert.native  # force the full (lazy) parse while errors still map to LdsFormatError
    return certs
