"""`gatectl cert install CERT`: a certificate signed on the CA laptop.

The first certificate (enrolment) is checked against the device's key and id and written in
place. A later one (a renewal done by hand) goes through the renewal path: `.new`, tried on the
broker, swapped in, the old pair kept on any failure."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config.model import GateConfig
from .errors import DeployError
from .files import read_bounded, write_atomic
from .identity import MAX_PEM_BYTES, load_certificate, load_private_key, same_public_key
from .renew import IdentityFiles, Probe, check_certificate, install_pending


def install_certificate(config: GateConfig, source: Path, now: datetime, probe: Probe) -> str:
    files = IdentityFiles.of(config)
    pem = read_bounded(source, MAX_PEM_BYTES, "certificate")
    cert = load_certificate(pem)
    key_path = _key_for(cert, files)
    owner = key_path.stat()
    if files.cert.exists():
        write_atomic(files.new_cert, pem, 0o644, owner.st_uid, owner.st_gid)
        return install_pending(config, files, now, probe).detail
    check_certificate(cert, load_private_key(read_bounded(key_path, MAX_PEM_BYTES, "private key")),
                      config.device.id, now)
    write_atomic(files.cert, pem, 0o644, owner.st_uid, owner.st_gid)
    return (f"installed {files.cert} (CN={config.device.id}, valid until {cert.not_valid_after_utc:%Y-%m-%d}); "
            "`gatectl selftest` checks it against the broker")


def _key_for(cert, files: IdentityFiles) -> Path:
    """The pending renewal key if the certificate was made for it, else the key in use."""
    for path in (files.new_key, files.key):
        if path.exists():
            key = load_private_key(read_bounded(path, MAX_PEM_BYTES, "private key"))
            if same_public_key(cert.public_key(), key.public_key()):
                return path
    raise DeployError("the certificate is not for this device's key (was the CSR made on this gate?)")
