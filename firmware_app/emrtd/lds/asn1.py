"""ASN.1 structures of ICAO 9303 defined with asn1crypto (9303-10 4.6.2, 9303-11 9.2, 9303-12 9).

asn1crypto parses lazily and reports malformed input with built-in exceptions; callers wrap every
access in lds.common.file_errors so hostile bytes end as LdsFormatError.
"""
from __future__ import annotations

from asn1crypto import algos, core, keys, x509

# OIDs (ICAO 9303-11 9.2, BSI TR-03110-3)
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
ID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
ID_AA = "2.23.136.1.1.5"
BSI_DE = "0.4.0.127.0.7"
ID_PK_DH = BSI_DE + ".2.2.1.1"
ID_PK_ECDH = BSI_DE + ".2.2.1.2"
ID_TA = BSI_DE + ".2.2.2"
ID_CA_DH = BSI_DE + ".2.2.3.1"
ID_CA_ECDH = BSI_DE + ".2.2.3.2"
ID_PACE = BSI_DE + ".2.2.4"
ECDSA_PLAIN = BSI_DE + ".1.1.4.1"  # .1 SHA-1 .2 SHA-224 .3 SHA-256 .4 SHA-384 .5 SHA-512


class DataGroupHash(core.Sequence):
    _fields = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    _fields = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


class SecurityInfo(core.Sequence):
    """Generic shape; the protocol OID decides how required/optional data are read."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfos(core.SetOf):
    _child_spec = SecurityInfo


class ChipAuthenticationPublicKeyInfo(core.Sequence):
    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("chip_authentication_public_key", keys.PublicKeyInfo),
        ("key_id", core.Integer, {"optional": True}),
    ]


class CscaCertificates(core.SetOf):
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("cert_list", CscaCertificates),
    ]


class DhDomain(core.Sequence):
    """X9.42 DomainParameters (p, g, q, ...) or PKCS#3 DHParameter (p, g, privateValueLength)."""

    _fields = [
        ("p", core.Integer),
        ("g", core.Integer),
        ("third", core.Integer, {"optional": True}),
        ("j", core.Any, {"optional": True}),
        ("validation", core.Any, {"optional": True}),
    ]


class GenericAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class GenericPublicKeyInfo(core.Sequence):
    _fields = [("algorithm", GenericAlgorithm), ("public_key", core.OctetBitString)]
