"""Certificate renewal (`gatectl cert renew`, run daily by gate-cert-renew.timer; `gatectl cert
install` for a certificate brought from the CA laptop).

The pattern thin-edge.io proved: the new certificate is fetched next to the old one as `.new`,
tried by connecting to the broker with it, and only then swapped in; any failure keeps the old
one in use. A new key is made for each renewal (`key_file.new`, 0600, on the device). The swap
renames the key, then the certificate; a run that finds the key swapped but not the certificate
(power lost between the two renames) finishes the swap before anything else.
"""
from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..config.model import GateConfig
from .errors import DeployError, RenewalError
from .files import read_bounded, write_atomic
from .identity import (
    MAX_PEM_BYTES,
    csr_pem,
    load_certificate,
    load_private_key,
    make_csr,
    new_private_key,
    private_key_pem,
    same_public_key,
)
from .renew_helper import run_helper

Probe = Callable[[Path, Path], None]        # (cert, key) -> None, raises RenewalError
# A certificate made a moment ago by a CA whose clock runs a little ahead (or signed after `now`
# was taken) is not refused for it.
CLOCK_SKEW = timedelta(minutes=5)


class RenewOutcome(str, enum.Enum):
    NOT_DUE = "not_due"
    RENEWED = "renewed"
    WAITING = "waiting_for_signature"


@dataclass(frozen=True)
class IdentityFiles:
    cert: Path
    key: Path

    @classmethod
    def of(cls, config: GateConfig) -> IdentityFiles:
        if config.bmis.cert_file is None or config.bmis.key_file is None:
            raise RenewalError("bmis.cert_file and bmis.key_file are not set (run gatectl provision)")
        return cls(Path(config.bmis.cert_file), Path(config.bmis.key_file))

    def sibling(self, path: Path, suffix: str) -> Path:
        return path.with_name(path.name + suffix)

    @property
    def new_cert(self) -> Path:
        return self.sibling(self.cert, ".new")

    @property
    def new_key(self) -> Path:
        return self.sibling(self.key, ".new")

    @property
    def new_csr(self) -> Path:
        return self.cert.with_name("renew.csr")


@dataclass(frozen=True)
class RenewReport:
    outcome: RenewOutcome
    detail: str
    not_after: datetime | None = None


def _cert(path: Path) -> x509.Certificate:
    return load_certificate(read_bounded(path, MAX_PEM_BYTES, "certificate"))


def _key(path: Path):
    return load_private_key(read_bounded(path, MAX_PEM_BYTES, "private key"))


def finish_torn_swap(files: IdentityFiles) -> bool:
    """Key renamed but certificate not: the pending certificate belongs to the key now in place."""
    if not files.new_cert.exists() or files.new_key.exists() or not files.key.exists():
        return False
    try:
        pending, key = _cert(files.new_cert), _key(files.key)
    except DeployError:
        return False
    if not same_public_key(pending.public_key(), key.public_key()):
        return False
    os.replace(files.new_cert, files.cert)
    return True


def check_certificate(cert: x509.Certificate, key, device_id: str, now: datetime) -> None:
    """What the gate can judge alone; whether the broker trusts the issuer, only the broker knows."""
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [device_id]:
        raise RenewalError(f"the certificate names CN {names}, not the device id {device_id!r}")
    if not same_public_key(cert.public_key(), key.public_key()):
        raise RenewalError("the certificate is not for this device's key")
    if not cert.not_valid_before_utc - CLOCK_SKEW <= now < cert.not_valid_after_utc:
        raise RenewalError(f"the certificate is not valid now ({cert.not_valid_before_utc:%Y-%m-%d} .. "
                           f"{cert.not_valid_after_utc:%Y-%m-%d})")
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise RenewalError("the certificate's extended key usage lacks clientAuth")


def due(config: GateConfig, files: IdentityFiles, now: datetime) -> tuple[bool, datetime]:
    not_after = _cert(files.cert).not_valid_after_utc
    return (not_after - now).days < config.identity.renew_before_days, not_after


def renew(config: GateConfig, now: datetime, probe: Probe, force: bool = False) -> RenewReport:
    files = IdentityFiles.of(config)
    finish_torn_swap(files)
    is_due, not_after = due(config, files, now)
    if not (is_due or force or files.new_cert.exists()):
        return RenewReport(RenewOutcome.NOT_DUE, f"valid until {not_after:%Y-%m-%d}; renewed within "
                                                 f"{config.identity.renew_before_days} days of the end", not_after)
    key = _renewal_key(files)
    if not files.new_cert.exists():
        csr = _write_csr(files, key, config.device.id)
        if not config.identity.renew_command:
            return RenewReport(RenewOutcome.WAITING, f"{csr} waits for the CA: sign it (gatectl pki sign-device) "
                                                     "and run `gatectl cert install CERT`", not_after)
        pem = run_helper(config.identity.renew_command, csr.read_bytes(), config.identity.renew_timeout_s)
        write_atomic(files.new_cert, pem, 0o644, *_owner_of(files.key))
    return install_pending(config, files, now, probe)


def _renewal_key(files: IdentityFiles):
    if files.new_key.exists():
        return _key(files.new_key)
    key = new_private_key()
    write_atomic(files.new_key, private_key_pem(key), 0o600, *_owner_of(files.key))
    return key


def _write_csr(files: IdentityFiles, key, device_id: str) -> Path:
    write_atomic(files.new_csr, csr_pem(make_csr(key, device_id)), 0o644, *_owner_of(files.key))
    return files.new_csr


def _owner_of(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def install_pending(config: GateConfig, files: IdentityFiles, now: datetime, probe: Probe) -> RenewReport:
    """Check `.new`, try it on the broker, then swap; on any failure the old pair stays in use."""
    key_path = files.new_key if files.new_key.exists() else files.key
    try:
        cert = _cert(files.new_cert)
        check_certificate(cert, _key(key_path), config.device.id, now)
    except DeployError as exc:
        files.new_cert.replace(files.sibling(files.cert, ".rejected"))
        raise RenewalError(f"new certificate refused ({exc}); kept as {files.cert.name}.rejected, "
                           "the current one stays in use") from None
    try:
        probe(files.new_cert, key_path)
    except RenewalError as exc:
        # Set aside, not retried: a certificate the broker refuses stays refused; the next run
        # fetches a fresh one for the same pending key.
        files.new_cert.replace(files.sibling(files.cert, ".rejected"))
        raise RenewalError(f"{exc}; the current certificate stays in use (new one kept as "
                           f"{files.cert.name}.rejected)") from None
    _swap(files, key_path)
    detail = (f"new certificate in use, valid until {cert.not_valid_after_utc:%Y-%m-%d} "
              f"(serial {cert.serial_number:x}); the previous pair kept as .old; gate-app "
              "reconnects with it on `systemctl reload gate-app` (gate-cert-renew.service sends it) "
              "or its next reconnection")
    return RenewReport(RenewOutcome.RENEWED, detail, cert.not_valid_after_utc)


def _swap(files: IdentityFiles, key_path: Path) -> None:
    for path in (files.cert, files.key):
        if path.exists():
            shutil.copy2(path, files.sibling(path, ".old"))
    if key_path == files.new_key:
        os.replace(files.new_key, files.key)
    os.replace(files.new_cert, files.cert)
    if files.new_csr.exists():
        files.new_csr.unlink()
