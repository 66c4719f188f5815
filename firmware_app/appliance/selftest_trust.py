"""`gatectl selftest` check of a CSCA trust store (read-only): it loads as the gate loads it, and
nothing in it needs attention now (emrtd/pa/store_health.py: the same findings as `gatectl pki check`).

A store the gate would not load, or one with no CSCA at all, fails (every traveller it judges is
referred, or the lane is out of service); an expired country, an anchor about to end or a CRL past
its nextUpdate only warns (the lane still verifies the rest; revocation data may be out of date).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import ComponentUnavailable
from .selftest import CheckResult, Status

NAME = "trust store"
WARN_DAYS = 30      # as the certificate checks: a month to renew an anchor


class StoreState(enum.Enum):
    """What is wrong with a store, in the terms the appliance decides on (onestop_trust.py)."""
    USABLE = "usable"
    ABSENT = "absent"            # no CSCA directory
    UNLOADABLE = "unloadable"    # the gate refuses to load it
    EMPTY = "empty"              # loads, but no CSCA: passive authentication fails for everyone


@dataclass(frozen=True)
class StoreCheck:
    result: CheckResult
    state: StoreState


def check_trust_store(config, now: datetime | None = None, warn_days: int = WARN_DAYS) -> StoreCheck:
    """`config`: its [smartcard] section names the store (an authority's own, see own_smartcard)."""
    from . import devices
    section = config.smartcard
    directory = Path(section.csca_dir)
    if not directory.is_dir():
        return StoreCheck(CheckResult(NAME, Status.FAIL, f"no CSCA directory {directory}"), StoreState.ABSENT)
    try:
        store = devices.load_trust_store(config)
    except ComponentUnavailable as exc:
        return StoreCheck(CheckResult(NAME, Status.FAIL, f"{directory}: the gate refuses it: {exc.reason}"),
                          StoreState.UNLOADABLE)
    return _judge(store, directory, now or datetime.now(UTC), warn_days)


def _judge(store, directory: Path, now: datetime, warn_days: int) -> StoreCheck:
    from firmware_app.emrtd.pa.store_health import Finding, check_store
    attention = [item for item in check_store(store, now, warn_days) if item.needs_attention]
    counts = f"{directory}: {len(store.cscas)} anchors, {len(store.crls)} CRLs"
    if any(item.finding is Finding.NO_ANCHORS for item in attention):
        return StoreCheck(CheckResult(NAME, Status.FAIL, f"{counts}: no CSCA, passive authentication fails"),
                          StoreState.EMPTY)
    if attention:
        findings = "; ".join(f"{item.finding.value} {item.country} {item.detail}" for item in attention[:5])
        return StoreCheck(CheckResult(NAME, Status.WARN, f"{counts}; needs attention: {findings}"),
                          StoreState.USABLE)
    return StoreCheck(CheckResult(NAME, Status.OK, f"{counts}, none expiring within {warn_days} days, "
                                                   "no CRL past its nextUpdate"), StoreState.USABLE)
