"""`gatectl selftest` check of the officer console (read-only): its TLS pair loads and is valid
now, and at least one officer can sign in. Skipped when [officer] is not enabled."""
from __future__ import annotations

from datetime import UTC, datetime

from firmware_app.errors import GateError

from .selftest import CheckResult, Status, fail
from .selftest_identity import EXPIRY_WARNING, _load_pair

NAME = "officer console"


def check_officer_console(config, now: datetime | None = None) -> CheckResult:
    section = config.officer
    if not section.enabled:
        return CheckResult(NAME, Status.SKIP, "skipped: [officer] enabled = false (assisted mode refers everyone)")
    from firmware_app.officer import OfficerStore
    from firmware_app.officer.server import tls_context
    try:
        tls_context(section.cert_file, section.key_file)
        cert, _ = _load_pair(section.cert_file, section.key_file)
        officers = OfficerStore(section.credential_file).names()
    except (GateError, OSError, ValueError, TypeError) as exc:
        return fail(NAME, str(exc))
    if not officers:
        return fail(NAME, f"no officer in {section.credential_file}: nobody can sign in (gatectl officer add)")
    return _judge(cert, len(officers), f"{section.bind}:{section.port}", now or datetime.now(UTC))


def _judge(cert, officers: int, where: str, now: datetime) -> CheckResult:
    expires = cert.not_valid_after_utc
    if expires <= now or cert.not_valid_before_utc > now:
        valid = f"{cert.not_valid_before_utc:%Y-%m-%d} .. {expires:%Y-%m-%d}"
        return fail(NAME, f"certificate not valid now (valid {valid})")
    status = Status.WARN if expires - now < EXPIRY_WARNING else Status.OK
    return CheckResult(NAME, status, f"https://{where}/, {officers} officer(s), certificate expires "
                                     f"{expires:%Y-%m-%d} ({(expires - now).days} days)")
