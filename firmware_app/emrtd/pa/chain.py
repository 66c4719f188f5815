"""Document Signer certificate -> CSCA trust anchor: signature, validity at `now`, revocation, and
whether the DS certificate may sign an EF.SOD at all (`ds_usage_problem`, its key usages).

ICAO 9303-12 gives the DS certificate keyUsage digitalSignature and no extendedKeyUsage. What we
accept, following RFC 5280 4.2.1.3 and 4.2.1.12 (both extensions restrict the key, and an EKU
restricts it whether marked critical or not):
- keyUsage absent, or present with digitalSignature (other bits alongside are tolerated);
- extendedKeyUsage absent, or listing anyExtendedKeyUsage or document signing (RFC 9336), with a
  warning that the profile leaves it out. An EKU of other purposes only (a TLS key, or ICAO's own
  master-list or deviation-list signer purposes) excludes document signing: refused.
"""
from __future__ import annotations

from datetime import datetime

from asn1crypto import x509

from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa.result import PaFailure, PaReason
from firmware_app.emrtd.pa.trust_store import TrustStore, certificate_signed_by


def validity_failure(cert: x509.Certificate, now: datetime, expired: PaReason,
                     not_yet: PaReason | None = None) -> PaFailure | None:
    validity = cert["tbs_certificate"]["validity"]
    if now > validity["not_after"].native:
        return PaFailure(expired, detail=f"expired {validity['not_after'].native.isoformat()}")
    if now < validity["not_before"].native:
        return PaFailure(not_yet or expired, detail=f"valid from {validity['not_before'].native.isoformat()}")
    return None


def check_chain(ds_cert: x509.Certificate, store: TrustStore, now: datetime) -> tuple[list[PaFailure], list[str]]:
    """Failures (empty when the chain is valid) and warnings about unusable CRLs."""
    usage_problem, warnings = ds_usage_problem(ds_cert)
    failures = [PaFailure(PaReason.DS_KEY_USAGE, detail=usage_problem)] if usage_problem else []
    ds_validity = validity_failure(ds_cert, now, PaReason.DS_EXPIRED, PaReason.DS_NOT_YET_VALID)
    if ds_validity:
        failures.append(ds_validity)
    # only CA certificates anchor a chain: a DS certificate dropped into the store must not
    anchors = [csca for csca in store.issuers_of(ds_cert) if csca.ca and certificate_signed_by(ds_cert, csca)]
    if not anchors:
        return failures + [PaFailure(PaReason.DS_NOT_TRUSTED, detail=_untrusted_detail(ds_cert, store))], warnings
    valid_anchors = [csca for csca in anchors if validity_failure(csca, now, PaReason.CSCA_EXPIRED) is None]
    expired = validity_failure(anchors[0], now, PaReason.CSCA_EXPIRED) if not valid_anchors else None
    if expired is not None:             # no valid anchor: the first one's expiry is the failure
        failures.append(expired)
    for csca in valid_anchors or anchors:
        revoked, notes = _revocation(ds_cert, csca, store, now)
        warnings += notes
        if revoked:
            failures.append(PaFailure(PaReason.DS_REVOKED, detail=f"serial {ds_cert.serial_number}"))
            break
    return failures, warnings


def _untrusted_detail(ds_cert: x509.Certificate, store: TrustStore) -> str:
    """Why no anchor was found: a CSCA holding the DS's authority key under another name is
    named (names must still match: a key id alone does not chain a certificate)."""
    aki = ds_cert.authority_key_identifier
    if aki is not None and not store.named(ds_cert.issuer) and store.with_key_id(aki):
        return "the CSCA with the DS's authority key identifier has another subject name"
    return "no CSCA signed this DS"


def _revocation(ds_cert: x509.Certificate, csca: x509.Certificate, store: TrustStore,
                now: datetime) -> tuple[bool, list[str]]:
    notes = []
    # after a CSCA key rollover the current key (same subject name) signs the CRL for all DSs
    same_country = [c for c in store.named(csca.subject) if c.ca]
    for crl in store.crls_of(csca):
        if not any(certificate_signed_by(crl, signer) for signer in same_country):
            notes.append("CRL ignored: its signature does not verify with the CSCA")
            continue
        next_update = crl["tbs_cert_list"]["next_update"].native
        if next_update is not None and next_update < now:
            notes.append("CRL is past its nextUpdate")
        revoked = crl["tbs_cert_list"]["revoked_certificates"]
        if any(entry["user_certificate"].native == ds_cert.serial_number for entry in revoked):
            return True, notes
    return False, notes


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
