"""Document Signer certificate -> CSCA trust anchor: signature, validity at `now`, revocation."""
from __future__ import annotations

from datetime import datetime

from asn1crypto import x509

from firmware_app.emrtd.pa.result import PaFailure, PaReason
from firmware_app.emrtd.pa.usage import ds_usage_problem
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
    if not valid_anchors:
        failures.append(validity_failure(anchors[0], now, PaReason.CSCA_EXPIRED))
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
