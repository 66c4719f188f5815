"""X.509 name matching that survives hostile names."""
from __future__ import annotations

from asn1crypto import x509

from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS


def same_name(one: x509.Name, other: x509.Name) -> bool:
    """Name equality with RFC 5280 normalisation; a name that cannot be normalised matches nothing."""
    try:
        return one == other
    except ASN1_DECODE_ERRORS:
        return False
