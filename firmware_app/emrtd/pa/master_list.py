"""ICAO CSCA master lists (9303-12 section 8): parse, verify the signature, pin the signer, import.

A master list is CMS SignedData over a set of CSCA certificates. ICAO lets the list vouch for
itself (its signer is issued by a CSCA in the list), which proves nothing: anyone can build such a
list. Here a list is trusted only when its signer chains to a pinned root (TrustStore.pins): a
CSCA certificate the technician installed as a file (the issuing country's CSCA, e.g. Germany's
for the BSI list) or a configured national root ([smartcard] master_list_roots). CSCAs that arrive
inside a master list never pin another list: trust does not travel from list to list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import cms, x509

from firmware_app.emrtd.errors import MasterListError, MlRefusal
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa.trust_store import TrustStore, certificate_signed_by, fingerprint

MAX_CERTIFICATES = 20_000  # the ICAO list holds ~600; the largest national lists ~1,000


@dataclass(frozen=True)
class MasterList:
    signer: x509.Certificate | None
    certificates: list[x509.Certificate]
    pinned_by: x509.Certificate | None  # None only when verification was skipped


@dataclass
class ListImport:
    """What one master list did to the store."""

    source: str
    signer: str
    pinned_by: str
    added: list[x509.Certificate] = field(default_factory=list)
    already_present: int = 0
    expired: int = 0  # among the added, already expired at import
    warnings: list[str] = field(default_factory=list)


def read_master_list(data: bytes, pins: list[x509.Certificate], verify: bool = True) -> MasterList:
    """Decode and (with verify) check signature and pinning; MasterListError names the reason."""
    try:
        signed, certs = _parse(data)
        if not verify:
            signers = _signer_certificates(signed)
            return MasterList(signers[0] if signers else None, certs, None)
        signer = _verify_signature(signed)
    except ASN1_DECODE_ERRORS as exc:
        raise MasterListError(f"master list cannot be decoded ({type(exc).__name__})") from exc
    root = pinned_root(signer, pins)
    if root is None:
        raise MasterListError(f"master list signer {describe(signer)} chains to no pinned root "
                              "(install its country's CSCA or set smartcard.master_list_roots)",
                              MlRefusal.SIGNER_NOT_PINNED)
    return MasterList(signer, certs, root)


def import_master_list(data: bytes, store: TrustStore, verify: bool = True, source: str = "master list",
                       now: datetime | None = None) -> ListImport:
    """Add a master list's CSCAs to the store, pinned against store.pins. Certificates already held
    are counted, not decoded again; the new ones are all decoded before any is added."""
    listed = read_master_list(data, store.pins, verify)
    report = ListImport(source, describe(listed.signer) if listed.signer else "?",
                        describe(listed.pinned_by) if listed.pinned_by else "not verified")
    new = [cert for cert in listed.certificates if not store.holds(cert)]
    report.already_present = len(listed.certificates) - len(new)
    try:
        for cert in new:
            _ = cert.native  # asn1crypto is lazy: decode now so later lookups cannot fail
    except ASN1_DECODE_ERRORS as exc:
        raise MasterListError(f"a listed certificate cannot be decoded ({type(exc).__name__})") from exc
    for cert in new:
        if store.add_certificate(cert, source=source):  # a list may repeat a certificate
            report.added.append(cert)
            report.expired += now is not None and cert.not_valid_after < now
        else:
            report.already_present += 1
    if now is not None and listed.signer is not None and listed.signer.not_valid_after < now:
        report.warnings.append("the list's signer certificate has expired: the list may be stale")
    return report


def _parse(data: bytes) -> tuple[cms.SignedData, list[x509.Certificate]]:
    info = cms.ContentInfo.load(data, strict=True)
    if info["content_type"].native != "signed_data":
        raise MasterListError("master list is not CMS SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != asn1.ID_CSCA_MASTER_LIST:
        raise MasterListError("content is not an ICAO CscaMasterList")
    master = asn1.CscaMasterList.load(encap["content"].native)
    if len(master["cert_list"]) > MAX_CERTIFICATES:
        raise MasterListError(f"more than {MAX_CERTIFICATES} certificates")
    certs = list(master["cert_list"])
    _ = signed["signer_infos"].native, signed["certificates"].native
    return signed, certs


def _signer_certificates(signed: cms.SignedData) -> list[x509.Certificate]:
    return [c.chosen for c in signed["certificates"] if c.name == "certificate"]


def _verify_signature(signed: cms.SignedData) -> x509.Certificate:
    from firmware_app.emrtd.pa.cms_signature import SignerCheck, check_signer_info

    content = signed["encap_content_info"]["content"].native
    if len(signed["signer_infos"]) != 1:  # none would mean "verified"; ICAO has exactly one
        raise MasterListError(f"{len(signed['signer_infos'])} signers (one required)", MlRefusal.NOT_SIGNED)
    check = check_signer_info(signed["signer_infos"][0], content, _signer_certificates(signed),
                              content_type=asn1.ID_CSCA_MASTER_LIST)
    if check.status is not SignerCheck.VALID:
        raise MasterListError(f"master list signature: {check.status.value}", MlRefusal.SIGNATURE_INVALID)
    return check.certificate


def pinned_root(signer: x509.Certificate, pins: list[x509.Certificate]) -> x509.Certificate | None:
    """The pin the signer is, or the CA pin that issued it (name and signature), else None."""
    own = fingerprint(signer)
    exact = next((pin for pin in pins if fingerprint(pin) == own), None)
    if exact is not None:
        return exact
    issuers = TrustStore(cscas=[pin for pin in pins if pin.ca]).issuers_of(signer)
    return next((pin for pin in issuers if certificate_signed_by(signer, pin)), None)


def describe(cert: x509.Certificate) -> str:
    """Country and common name of a certificate, for reports (no personal data in these)."""
    subject = cert.subject.native
    return f"{subject.get('country_name', '??')} {subject.get('common_name', '')}".strip()
