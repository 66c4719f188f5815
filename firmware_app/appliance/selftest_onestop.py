"""`gatectl selftest` in a one-stop lane: each authority's outbox, broker and client certificate are
checked with its own settings (its data_dir, its [authority.bmis]), named by role."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .onestop import authority_config
from .selftest import CheckResult


def authority_checks(config) -> list[Callable[[], CheckResult]]:
    from .selftest import check_broker, check_outbox
    from .selftest_identity import check_client_certificate
    checks: list[Callable[[], CheckResult]] = []
    for authority in config.authority:
        own, role = authority_config(config, authority), f"{authority.role.value} {authority.country}"
        checks += [_bound(check, own, role) for check in (check_outbox, check_broker, check_client_certificate)]
    return checks


def _bound(check: Callable[..., CheckResult], config, role: str) -> Callable[[], CheckResult]:
    return lambda: _named(check(config), role)


def _named(result: CheckResult, role: str) -> CheckResult:
    return dataclasses.replace(result, name=f"{result.name} ({role})")
