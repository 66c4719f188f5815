"""CSCA trust store: certificates from a directory (PEM/DER) and from ICAO master lists, plus CRLs.

The store only holds and finds anchors; deciding whether a Document Signer chains to one is
pa.chain's job. Loading is I/O and happens at start-up, never inside a transaction.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl, pem, x509

from firmware_app.emrtd.errors import PaError, TrustStoreError
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa import signature
from firmware_app.emrtd.pa.names import NameKey, key_ids, name_key, same_name
from firmware_app.emrtd.pa.public_key import load_public_key

log = logging.getLogger(__name__)
CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
CRL_SUFFIXES = {".crl"}
ML_SUFFIXES = {".ml", ".mls"}
ROOTS_SUBDIR = "roots"
MAX_FILE_BYTES = 8 << 20  # a full ICAO master list is about 1 MB


def fingerprint(item: x509.Certificate | crl.CertificateList) -> bytes:
    return hashlib.sha256(item.dump()).digest()


@dataclass
class TrustStore:
    """CSCA anchors indexed by normalised subject name (lookups and imports stay linear), CRLs,
    where each anchor came from, and the roots a master list must chain to (`pins`)."""

    cscas: list[x509.Certificate] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)
    pins: list[x509.Certificate] = field(default_factory=list)
    sources: dict[bytes, str] = field(default_factory=dict)  # fingerprint -> file or master list
    problems: list[str] = field(default_factory=list)  # files skipped by a lenient load_directory
    _seen: set[bytes] = field(default_factory=set, repr=False)
    _by_name: dict[NameKey | None, list[x509.Certificate]] = field(default_factory=dict, repr=False)
    _indexed: int = field(default=0, repr=False)

    def add_certificate(self, cert: x509.Certificate, source: str = "") -> bool:
        """Add an anchor unless the same certificate is already held; True when added."""
        self._sync()
        key = fingerprint(cert)
        if key in self._seen:
            return False
        self.cscas.append(cert)
        self._index(cert, key)
        self.sources.setdefault(key, source)
        return True

    def source_of(self, cert: x509.Certificate) -> str:
        return self.sources.get(fingerprint(cert), "")

    def holds(self, cert: x509.Certificate) -> bool:
        self._sync()
        return fingerprint(cert) in self._seen

    def _sync(self) -> None:
        # certificates given to the constructor (or appended by hand) are indexed on first use
        while self._indexed < len(self.cscas):
            cert = self.cscas[self._indexed]
            self._index(cert, fingerprint(cert))

    def _index(self, cert: x509.Certificate, key: bytes) -> None:
        self._seen.add(key)
        self._by_name.setdefault(name_key(cert.subject), []).append(cert)
        self._indexed += 1

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """CSCA candidates by normalised issuer name, narrowed by the authority key identifier
        when both sides carry one (a name shared by several keys after a rollover)."""
        self._sync()
        key = name_key(cert.issuer)
        if key is None:
            return []
        aki = cert.authority_key_identifier
        return [csca for csca in self._by_name.get(key, [])
                if aki is None or csca.key_identifier is None or aki in key_ids(csca)]

    def named(self, name: x509.Name) -> list[x509.Certificate]:
        self._sync()
        key = name_key(name)
        return [] if key is None else list(self._by_name.get(key, []))

    def with_key_id(self, key_id: bytes) -> list[x509.Certificate]:
        """Anchors carrying this key identifier, whatever their name (diagnostics only)."""
        return [csca for csca in self.cscas if key_id in key_ids(csca)]

    def crls_of(self, csca: x509.Certificate) -> list[crl.CertificateList]:
        return [entry for entry in self.crls if same_name(entry.issuer, csca.subject)]


def read_bounded(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise TrustStoreError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    return path.read_bytes()


def parse_certificates(data: bytes, origin: str) -> list[x509.Certificate]:
    """One DER certificate or any number of PEM certificates."""
    try:
        if pem.detect(data):
            return [_load_certificate(der) for kind, _, der in pem.unarmor(data, multiple=True)
                    if kind == "CERTIFICATE"]
        return [_load_certificate(data)]
    except ASN1_DECODE_ERRORS as exc:
        raise TrustStoreError(f"{origin}: not a certificate ({type(exc).__name__})") from exc


def _load_certificate(der: bytes) -> x509.Certificate:
    cert = x509.Certificate.load(der, strict=True)
    _ = cert.native  # asn1crypto is lazy: decode everything now so later lookups cannot fail
    return cert


def parse_crl(data: bytes, origin: str) -> crl.CertificateList:
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        entry = crl.CertificateList.load(data, strict=True)
        _ = entry.native
        return entry
    except ASN1_DECODE_ERRORS as exc:
        raise TrustStoreError(f"{origin}: not a CRL ({type(exc).__name__})") from exc


def load_directory(directory: Path, store: TrustStore | None = None, strict: bool = True) -> TrustStore:
    """Certificates (*.pem *.crt *.cer *.der), CRLs (*.crl) and master lists (*.ml) of a directory.

    CSCA certificate files are anchors and also pin master lists (see pa.master_list); they are
    loaded first so a list is checked against them whatever the file names' order. Certificates in
    the subdirectory roots/ only pin master lists (`gatectl pki import --ml-root` puts them there).
    strict: an unusable file is an error (the gate); otherwise it is skipped and named in
    store.problems (the technician's tools, which must still open a store to repair it)."""
    if not directory.is_dir():
        raise TrustStoreError(f"{directory}: not a directory")
    store = store or TrustStore()
    if (directory / ROOTS_SUBDIR).is_dir():
        load_roots(sorted(p for p in (directory / ROOTS_SUBDIR).iterdir() if p.suffix.lower() in CERT_SUFFIXES), store)
    paths = sorted(directory.iterdir())
    for suffixes, loader in ((CERT_SUFFIXES, _load_certificate_file), (CRL_SUFFIXES, _load_crl_file),
                             (ML_SUFFIXES, _load_master_list_file)):
        for path in (p for p in paths if p.suffix.lower() in suffixes):
            try:
                loader(path, store)
            except TrustStoreError as exc:
                if strict:
                    raise
                store.problems.append(f"{path.name}: {exc}")
    log.info("trust store: %d CSCA certificates, %d CRLs from %s", len(store.cscas), len(store.crls), directory)
    return store


def _load_certificate_file(path: Path, store: TrustStore) -> None:
    for cert in parse_certificates(read_bounded(path), str(path)):
        store.add_certificate(cert, source=path.name)
        store.pins.append(cert)


def _load_crl_file(path: Path, store: TrustStore) -> None:
    store.crls.append(parse_crl(read_bounded(path), str(path)))


def _load_master_list_file(path: Path, store: TrustStore) -> None:
    from firmware_app.emrtd.pa.master_list import import_master_list
    report = import_master_list(read_bounded(path), store, source=path.name)
    log.info("master list %s signed by %s, pinned by %s: %d anchors added (%s), %d already present",
             path.name, report.signer, report.pinned_by, len(report.added),
             " ".join(sorted({str(c.subject.native.get("country_name", "??")) for c in report.added})) or "-",
             report.already_present)


def load_roots(paths: list[Path], store: TrustStore) -> None:
    """Configured national roots: they pin master lists; they are not passport anchors by themselves."""
    for path in paths:
        store.pins.extend(parse_certificates(read_bounded(path), str(path)))


def open_store(path: Path, roots: Sequence[Path] = ()) -> TrustStore:
    """A CSCA directory, or one master-list file, with the given master-list roots."""
    from firmware_app.emrtd.pa.master_list import import_master_list

    store = TrustStore()
    load_roots(list(roots), store)
    if path.is_dir():
        return load_directory(path, store)
    import_master_list(read_bounded(path), store, source=path.name)
    return store


def certificate_signed_by(cert: x509.Certificate | crl.CertificateList, issuer: x509.Certificate) -> bool:
    """Signature check of a certificate or CRL with the issuer's key (False if it cannot verify)."""
    try:
        key = load_public_key(issuer.public_key)
        scheme = signature.scheme_from_asn1(cert["signature_algorithm"])
    except PaError:
        return False
    if isinstance(cert, x509.Certificate):
        tbs, value = cert["tbs_certificate"], cert["signature_value"]
    else:
        tbs, value = cert["tbs_cert_list"], cert["signature"]
    try:
        return signature.verify(key, scheme, tbs.dump(), value.native)
    except ASN1_DECODE_ERRORS:
        return False
