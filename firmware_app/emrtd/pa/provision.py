"""Filling and inspecting a CSCA trust-store directory (the technician's `gatectl pki` commands).

Import checks each file against what the directory already holds, then copies it in under a name
derived from its content (`csca-UT-<hash>.der`, `crl-UT-<hash>.crl`, `ml-DE-<hash>.ml`), so
importing the same file twice changes nothing. A file is refused with a reason and never copied:
- certificate: not a CA certificate, or already expired;
- CRL: no CSCA in the store signed it;
- master list: malformed, signature invalid, or signer not pinned (pa.master_list).
Runs at provisioning time, never inside a transaction; `now` is passed in.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from asn1crypto import cms, crl, pem, x509

from firmware_app.emrtd.errors import TrustStoreError
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa.master_list import import_master_list, read_master_list
from firmware_app.emrtd.pa.trust_store import (
    ROOTS_SUBDIR,
    TrustStore,
    certificate_signed_by,
    fingerprint,
    load_directory,
    load_roots,
    parse_certificates,
    parse_crl,
    read_bounded,
)


class Outcome(Enum):
    ADDED = "added"
    PRESENT = "present"  # the same content is already in the store: nothing to do
    REFUSED = "refused"


class FileKind(Enum):
    CERTIFICATE = "certificate"
    CRL = "crl"
    MASTER_LIST = "master_list"
    UNKNOWN = "unknown"


@dataclass
class FileReport:
    path: str
    kind: FileKind
    outcome: Outcome = Outcome.REFUSED
    reason: str = ""
    stored_as: str | None = None
    anchors: list[dict] = field(default_factory=list)  # anchors this file added
    already_present: int = 0
    expired: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"file": self.path, "kind": self.kind.value, "outcome": self.outcome.value, "reason": self.reason,
                "stored_as": self.stored_as, "added": self.anchors, "already_present": self.already_present,
                "expired": self.expired, "warnings": self.warnings}


def anchor_info(cert: x509.Certificate, source: str) -> dict:
    subject = cert.subject.native
    key_id = cert.key_identifier
    return {"country": str(subject.get("country_name", "??")).upper(), "subject": cert.subject.human_friendly,
            "key_id": key_id.hex() if key_id else None, "serial": str(cert.serial_number),
            "not_before": cert.not_valid_before.isoformat(), "not_after": cert.not_valid_after.isoformat(),
            "source": source}


def open_directory(directory: Path, roots: list[Path]) -> TrustStore:
    """The store as the tools see it: unusable files are listed in store.problems, not fatal, so
    a store the gate refuses (e.g. an unpinned master list) can still be inspected and repaired."""
    store = TrustStore()
    load_roots(roots, store)
    if directory.is_dir():
        load_directory(directory, store, strict=False)
    return store


def import_files(paths: list[Path], directory: Path, roots: list[Path], now: datetime,
                 new_roots: Sequence[Path] = ()) -> list[FileReport]:
    """Import each file into the directory (created if absent); one report per file, in order.

    new_roots: master-list roots to keep in the store's roots/ subdirectory from now on (so the
    gate, which loads the directory, trusts the same lists)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in new_roots:
        for cert in parse_certificates(read_bounded(path), str(path)):
            if not cert.ca:
                raise TrustStoreError(f"{path}: a master-list root must be a CA certificate")
            (directory / ROOTS_SUBDIR).mkdir(exist_ok=True)
            _write(directory / ROOTS_SUBDIR, "root", _country(cert.subject), fingerprint(cert), ".der", cert.dump())
    store = open_directory(directory, roots)
    return [_import_one(path, directory, store, now) for path in paths]


def _import_one(path: Path, directory: Path, store: TrustStore, now: datetime) -> FileReport:
    try:
        data = read_bounded(path)
    except (OSError, TrustStoreError) as exc:
        return FileReport(str(path), FileKind.UNKNOWN, reason=f"unreadable: {exc}")
    kind = sniff(data)
    importer = {FileKind.CERTIFICATE: _import_certificates, FileKind.CRL: _import_crl,
                FileKind.MASTER_LIST: _import_master_list}.get(kind)
    report = FileReport(str(path), kind)
    if importer is None:
        report.reason = "neither a certificate, a CRL nor an ICAO master list"
        return report
    try:
        importer(data, report, directory, store, now)
    except TrustStoreError as exc:
        report.outcome, report.reason = Outcome.REFUSED, str(exc)
    return report


def sniff(data: bytes) -> FileKind:
    """What a file holds, from its content (file names from elsewhere are not to be trusted)."""
    if pem.detect(data):
        try:
            label = next(pem.unarmor(data, multiple=True))[0]
        except (ValueError, StopIteration):
            return FileKind.UNKNOWN
        return {"CERTIFICATE": FileKind.CERTIFICATE, "X509 CRL": FileKind.CRL}.get(label, FileKind.UNKNOWN)
    for kind, probe in ((FileKind.MASTER_LIST, _is_signed_data), (FileKind.CERTIFICATE, _is_certificate),
                        (FileKind.CRL, _is_crl)):
        try:
            if probe(data):
                return kind
        except ASN1_DECODE_ERRORS:
            continue
    return FileKind.UNKNOWN


def _is_signed_data(data: bytes) -> bool:
    return cms.ContentInfo.load(data, strict=True)["content_type"].native == "signed_data"


def _is_certificate(data: bytes) -> bool:
    # decoded in full: a CRL's fields can pass for the first fields of a certificate
    return x509.Certificate.load(data, strict=True).native is not None


def _is_crl(data: bytes) -> bool:
    return crl.CertificateList.load(data, strict=True).native is not None


def _import_certificates(data: bytes, report: FileReport, directory: Path, store: TrustStore, now: datetime) -> None:
    refusals = []
    for cert in parse_certificates(data, report.path):
        problem = _certificate_problem(cert, now)
        if problem:
            refusals.append(problem)
            report.expired += problem == "expired"
        elif store.holds(cert):
            report.already_present += 1
        else:
            name = _write(directory, "csca", _country(cert.subject), fingerprint(cert), ".der", cert.dump())
            store.add_certificate(cert, source=name)
            store.pins.append(cert)
            report.anchors.append(anchor_info(cert, name))
            report.stored_as = name
    _settle(report, refusals)


def _certificate_problem(cert: x509.Certificate, now: datetime) -> str | None:
    if not cert.ca:
        return "not a CA certificate (a CSCA has basicConstraints cA)"
    if cert.not_valid_after < now:
        return "expired"
    return None


def _settle(report: FileReport, refusals: list[str]) -> None:
    if report.anchors:
        report.outcome = Outcome.ADDED
        report.warnings += [f"a certificate refused: {r}" for r in refusals]
    elif report.already_present:
        report.outcome = Outcome.PRESENT
    else:
        report.outcome, report.reason = Outcome.REFUSED, "; ".join(refusals) or "no certificate in the file"


def _import_crl(data: bytes, report: FileReport, directory: Path, store: TrustStore, now: datetime) -> None:
    entry = parse_crl(data, report.path)
    key = fingerprint(entry)
    if any(fingerprint(held) == key for held in store.crls):
        report.outcome = Outcome.PRESENT
        return
    if not any(certificate_signed_by(entry, csca) for csca in store.named(entry.issuer) if csca.ca):
        raise TrustStoreError("no CSCA in the store signed this CRL (import the CSCA first)")
    next_update = entry["tbs_cert_list"]["next_update"].native
    if next_update is not None and next_update < now:
        report.warnings.append(f"CRL is past its nextUpdate ({next_update.isoformat()})")
    report.stored_as = _write(directory, "crl", _country(entry.issuer), key, ".crl", entry.dump())
    store.crls.append(entry)
    report.outcome = Outcome.ADDED


def _import_master_list(data: bytes, report: FileReport, directory: Path, store: TrustStore, now: datetime) -> None:
    listed = read_master_list(data, store.pins)  # MasterListError names the refusal
    assert listed.signer is not None             # a master list read here was verified against its signer
    name = _file_name("ml", _country(listed.signer.subject), fingerprint_bytes(data), ".ml")
    if (directory / name).exists():
        report.outcome, report.stored_as = Outcome.PRESENT, name
        report.already_present = len(listed.certificates)
        return
    result = import_master_list(data, store, source=name, now=now)
    _write(directory, "ml", _country(listed.signer.subject), fingerprint_bytes(data), ".ml", data)
    report.outcome, report.stored_as = Outcome.ADDED, name
    report.anchors = [anchor_info(cert, name) for cert in result.added]
    report.already_present, report.expired = result.already_present, result.expired
    report.warnings += [f"pinned by {result.pinned_by}"] + result.warnings


def fingerprint_bytes(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _country(name: x509.Name) -> str:
    country = str(name.native.get("country_name", "XX"))
    return country.upper() if country.isalnum() and len(country) <= 3 else "XX"


def _file_name(prefix: str, country: str, key: bytes, suffix: str) -> str:
    return f"{prefix}-{country}-{key[:8].hex()}{suffix}"


def _write(directory: Path, prefix: str, country: str, key: bytes, suffix: str, data: bytes) -> str:
    """Atomic copy into the store (a half-written file would make the gate refuse to start)."""
    name = _file_name(prefix, country, key, suffix)
    temporary = directory / f".{name}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / name)
    return name

