"""`gatectl selftest` check of the gate's identity: the MQTT client certificate (read-only)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from .selftest import CheckResult, Status, fail

EXPIRY_WARNING = timedelta(days=30)


def check_client_certificate(config, now: datetime | None = None) -> CheckResult:
    """Expiry, CN = device id, and the private key belongs to the certificate."""
    bmis = config.bmis
    if bmis.cert_file is None:
        return CheckResult("certificate", Status.WARN, "no client certificate configured (bmis.cert_file)")
    try:
        cert, key = _load_pair(Path(bmis.cert_file), Path(bmis.key_file))
    except (OSError, ValueError, TypeError) as exc:
        return fail("certificate", f"cannot read {bmis.cert_file} / {bmis.key_file}: {exc}")
    return _judge(cert, key, config.device.id, now or datetime.now(UTC))


def _load_pair(cert_path: Path, key_path: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key


def _judge(cert, key, device_id: str, now: datetime) -> CheckResult:
    from cryptography.x509.oid import NameOID
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    expires = cert.not_valid_after_utc
    if names != [device_id]:
        return fail("certificate", f"CN {names} is not the device id {device_id!r}")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        return fail("certificate", "the private key does not belong to the certificate")
    if expires <= now or cert.not_valid_before_utc > now:
        return fail("certificate", f"not valid now (valid {cert.not_valid_before_utc:%Y-%m-%d} .. {expires:%Y-%m-%d})")
    left = expires - now
    status = Status.WARN if left < EXPIRY_WARNING else Status.OK
    return CheckResult("certificate", status, f"CN={device_id}, key matches, expires {expires:%Y-%m-%d} "
                                              f"({left.days} days)")
