"""Is a Document Signer certificate allowed to sign an EF.SOD? (its keyUsage and extended key usage)

ICAO 9303-12 gives the DS certificate keyUsage digitalSignature and no extendedKeyUsage. What we
accept, following RFC 5280 4.2.1.3 and 4.2.1.12 (both extensions restrict the key, and an EKU
restricts it whether marked critical or not):
- keyUsage absent, or present with digitalSignature (other bits alongside are tolerated);
- extendedKeyUsage absent, or listing anyExtendedKeyUsage or document signing (RFC 9336), with a
  warning that the profile leaves it out. An EKU of other purposes only (a TLS key, or ICAO's own
  master-list or deviation-list signer purposes) excludes document signing: refused.
"""
from __future__ import annotations

from asn1crypto import x509

from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS

ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0"
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"  # RFC 9336 id-kp-documentSigning
ACCEPTED_PURPOSES = {ANY_EXTENDED_KEY_USAGE, DOCUMENT_SIGNING}


def ds_usage_problem(cert: x509.Certificate) -> tuple[str | None, list[str]]:
    """(why the certificate may not sign an SOD, or None; warnings)."""
    try:
        key_usage = cert.key_usage_value
        purposes = cert.extended_key_usage_value
    except ASN1_DECODE_ERRORS as exc:
        return f"key usage extensions unreadable ({type(exc).__name__})", []
    if key_usage is not None and "digital_signature" not in key_usage.native:
        return f"keyUsage {sorted(key_usage.native)} lacks digitalSignature", []
    if purposes is None:
        return None, []
    dotted = sorted(purpose.dotted for purpose in purposes)
    if not ACCEPTED_PURPOSES.intersection(dotted):
        return f"extendedKeyUsage {dotted} excludes document signing", []
    return None, [f"DS certificate carries extendedKeyUsage {dotted} (the ICAO profile has none)"]
