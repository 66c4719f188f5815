"""Passive authentication (ICAO 9303-11 5.1): SOD signature, DS chain to a CSCA, data-group hashes."""
from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from asn1crypto import x509

from firmware_app.emrtd.errors import LdsError, SodContentTypeError
from firmware_app.emrtd.lds.sod import SecurityObject, parse_sod
from firmware_app.emrtd.pa import signature
from firmware_app.emrtd.pa.chain import check_chain
from firmware_app.emrtd.pa.cms_signature import SignerCheck, check_signer_info
from firmware_app.emrtd.pa.result import PaFailure, PaReason, PaResult
from firmware_app.emrtd.pa.trust_store import TrustStore

SIGNER_REASONS = {
    SignerCheck.SIGNER_CERT_MISSING: PaReason.DS_CERT_MISSING,
    SignerCheck.SIGNED_ATTRS_INVALID: PaReason.SIGNED_ATTRS_INVALID,
    SignerCheck.SIGNATURE_INVALID: PaReason.SOD_SIGNATURE_INVALID,
    SignerCheck.UNSUPPORTED_ALGORITHM: PaReason.UNSUPPORTED_ALGORITHM,
}


def passive_authenticate(sod: bytes | SecurityObject, data_groups: Mapping[int, bytes],
                         trust_store: TrustStore | None, now: datetime,
                         ds_certificates: Sequence[x509.Certificate] = ()) -> PaResult:
    """Run every check and report all failures; `data_groups` maps DG number -> raw file bytes.

    ds_certificates: Document Signer certificates obtained elsewhere (e.g. the ICAO PKD), for the
    few states whose SOD does not carry its signer's certificate."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    try:
        security_object = sod if isinstance(sod, SecurityObject) else parse_sod(sod)
    except LdsError as exc:
        reason = PaReason.SOD_CONTENT_TYPE if isinstance(exc, SodContentTypeError) else PaReason.SOD_MALFORMED
        failure = PaFailure(reason, detail=str(exc))
        return PaResult(False, False, None if trust_store is None else False, (failure,))
    return _authenticate(security_object, data_groups, trust_store, now, list(ds_certificates))


def _authenticate(sod: SecurityObject, data_groups: Mapping[int, bytes], trust_store: TrustStore | None,
                  now: datetime, extra_certificates: list[x509.Certificate]) -> PaResult:
    certificates = list(sod.certificates) + extra_certificates
    signer = check_signer_info(sod.signer_info, sod.encapsulated_content, certificates,
                               content_type=sod.content_type)
    failures = [] if signer.status is SignerCheck.VALID else [
        PaFailure(SIGNER_REASONS[signer.status], detail=signer.detail)]
    hash_failures = check_hashes(sod, data_groups)
    chain_valid, chain_failures, warnings = _chain(signer.certificate, trust_store, now)
    return PaResult(
        signature_valid=signer.status is SignerCheck.VALID,
        hashes_valid=not hash_failures,
        chain_valid=chain_valid,
        failures=tuple(failures + hash_failures + chain_failures),
        checked_groups=tuple(sorted(data_groups)),
        warnings=sod.warnings + tuple(warnings),
    )


def _chain(ds_cert, trust_store: TrustStore | None, now: datetime) -> tuple[bool | None, list[PaFailure], list[str]]:
    if trust_store is None:
        return None, [PaFailure(PaReason.NO_TRUST_STORE)], []
    if ds_cert is None:
        return False, [], []  # DS_CERT_MISSING already reported
    failures, warnings = check_chain(ds_cert, trust_store, now)
    return not failures, failures, warnings


def check_hashes(sod: SecurityObject, data_groups: Mapping[int, bytes]) -> list[PaFailure]:
    """Every data group read must be listed in the SOD with an equal hash."""
    failures = []
    for number in sorted(data_groups):
        expected = sod.dg_hashes.get(number)
        if expected is None:
            failures.append(PaFailure(PaReason.DG_NOT_IN_SOD, number))
            continue
        actual = signature.digest(sod.hash_algorithm, data_groups[number])
        if not hmac.compare_digest(actual, expected):
            failures.append(PaFailure(PaReason.DG_HASH_MISMATCH, number))
    return failures
