"""X.509 name and key-identifier matching the way deployed ePassport verifiers do it.

Real SODs name the Document Signer's issuer with the same attributes in another order (a
Malaysian passport), with another string type (PrintableString vs UTF8String) or other case and
spacing. A name here is therefore compared as the multiset of its (attribute type, value) pairs,
each string value normalised as RFC 4518 prepares it for caseIgnoreMatch: Unicode NFKC, case
folded, insignificant spaces removed. Names only pick candidates: a signature decides the match.
"""
from __future__ import annotations

import hashlib
import unicodedata

from asn1crypto import core, x509

from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS

MAX_NAME_ATTRIBUTES = 64  # real names have 2-8; more is hostile and would only cost time
MAX_VALUE_CHARS = 1024

NameKey = tuple[tuple[str, str], ...]


def name_key(name: x509.Name) -> NameKey | None:
    """The order-free, normalised form of a name; None when it cannot be normalised."""
    try:
        pairs = []
        for rdn in name.chosen:
            for attribute in rdn:
                pairs.append((attribute["type"].dotted, _normalised_value(attribute["value"])))
                if len(pairs) > MAX_NAME_ATTRIBUTES:
                    return None
        return tuple(sorted(pairs))
    except (*ASN1_DECODE_ERRORS, UnicodeError):
        return None


def _normalised_value(value: core.Asn1Value) -> str:
    if isinstance(value, core.Choice):
        value = value.chosen
    if isinstance(value, core.AbstractString):
        return normalise_string(value.native)
    # non-string attribute values (rare; unknown types) compare by their exact encoding
    return "der:" + value.dump().hex()


def normalise_string(text: str) -> str:
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError("name value too long")
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def same_name(one: x509.Name, other: x509.Name) -> bool:
    """Equality of normalised names; a name that cannot be normalised matches nothing."""
    key = name_key(one)
    return key is not None and key == name_key(other)


def key_ids(cert: x509.Certificate) -> set[bytes]:
    """The identifiers a signer or issuer may be named by: the subjectKeyIdentifier extension and
    the RFC 5280 method-1 hash of the key (what issuers compute when the extension is absent)."""
    ids = set()
    try:
        if cert.key_identifier is not None:
            ids.add(cert.key_identifier)
        ids.add(hashlib.sha1(bytes(cert.public_key["public_key"])).digest())
    except ASN1_DECODE_ERRORS:
        pass
    return ids
