"""`gatectl selftest` in a one-stop lane (issue 17): each authority's own parts checked with its own
settings (authority_config: its data_dir, its [authority.bmis], its trust store, its officers):
outbox, broker, client certificate, trust store (CSCA/CRL freshness) and officer console.

Each result names its authority ("outbox (exit UTO)", and `authority` in --json). A failed part is
that authority's, and says what the appliance does about it (`lane`), as the appliance decides:
- outbox: no record of that authority can be kept, the lane is out of service;
- broker or certificate (its link cannot connect): its `allow_offline` decides; true, it decides
  offline and its records wait; false, it refers every traveller (`bmis_unreachable`);
- its own trust store absent or refused: `allow_offline` true, it refers every traveller
  (`no_trust_store`); false, the lane is out of service. A shared store (the lane's [smartcard])
  that does not load is a lane fault; one that is absent or empty refers every traveller;
- officer console: the lane runs; its authority's referrals are not reviewed (referred at the timeout).
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from firmware_app.config.onestop import AuthoritySection

from .onestop import authority_config
from .selftest import CheckResult, Status
from .selftest_trust import StoreCheck, StoreState, check_trust_store


class LaneEffect(str, enum.Enum):
    RUNS = "runs"
    REFERS_EVERYONE = "refers_everyone"
    OUT_OF_SERVICE = "out_of_service"


EFFECT_TEXT = {LaneEffect.RUNS: "the lane still runs", LaneEffect.REFERS_EVERYONE: "the lane runs but {role} "
               "refers every traveller", LaneEffect.OUT_OF_SERVICE: "the lane is out of service"}


def authority_checks(config) -> list[Callable[[], CheckResult]]:
    checks: list[Callable[[], CheckResult]] = []
    for authority in config.authority:
        checks += _checks_of(config, authority)
    if all(authority.csca_dir is not None for authority in config.authority):
        checks.append(lambda: check_unused_lane_store(config))
    return checks


def check_unused_lane_store(config) -> CheckResult:
    """Every authority has its own store: the appliance neither loads the lane's [smartcard] one nor
    faults on it (lane_store_used), so the selftest only says so."""
    return CheckResult("trust store (lane)", Status.SKIP, "unused: each authority has its own")


def _checks_of(config, authority: AuthoritySection) -> list[Callable[[], CheckResult]]:
    from .selftest import check_broker, check_outbox
    from .selftest_identity import check_client_certificate
    from .selftest_officer import check_officer_console
    own = authority_config(config, authority)
    staffed = own.model_copy(update={"officer": authority.officers})
    link = _link_effect(authority)
    return [lambda: _named(check_outbox(own), authority, LaneEffect.OUT_OF_SERVICE, "no record of it can be kept"),
            lambda: _named(check_broker(own), authority, *link),
            lambda: _named(check_client_certificate(own), authority, *link),
            lambda: _trust(check_trust_store(own), authority),
            lambda: _named(check_officer_console(staffed), authority, LaneEffect.RUNS,
                           "its referrals are not reviewed (referred at the officer timeout)")]


def _link_effect(authority: AuthoritySection) -> tuple[LaneEffect, str]:
    if authority.policy.allow_offline:
        return LaneEffect.RUNS, "it decides offline (allow_offline = true), its records wait in its outbox"
    return LaneEffect.REFERS_EVERYONE, "allow_offline = false: bmis_unreachable while its link is down"


def _trust(check: StoreCheck, authority: AuthoritySection) -> CheckResult:
    own, offline = authority.csca_dir is not None, authority.policy.allow_offline
    result = check.result if own else dataclasses.replace(
        check.result, detail=f"{check.result.detail} (the lane's [smartcard] store, shared)")
    if check.state is StoreState.EMPTY or (check.state is StoreState.ABSENT and not own):
        return _named(result, authority, LaneEffect.REFERS_EVERYONE, "no CSCA to verify a chip against")
    if check.state is StoreState.UNLOADABLE and not own:
        return _named(result, authority, LaneEffect.OUT_OF_SERVICE, "the lane's trust store does not load")
    if check.state in (StoreState.ABSENT, StoreState.UNLOADABLE):
        effect = LaneEffect.REFERS_EVERYONE if offline else LaneEffect.OUT_OF_SERVICE
        return _named(result, authority, effect, f"allow_offline = {str(offline).lower()}: no_trust_store")
    return _named(result, authority, LaneEffect.RUNS, "")


def _named(result: CheckResult, authority: AuthoritySection, effect: LaneEffect, why: str) -> CheckResult:
    """The result as this authority's; a failure says what the lane does about it."""
    role = authority.role.value
    named = dataclasses.replace(result, name=f"{result.name} ({role} {authority.country})", authority=role)
    if result.status is not Status.FAIL:
        return named
    text = EFFECT_TEXT[effect].format(role=role) + (f" ({why})" if why else "")
    return dataclasses.replace(named, detail=f"{result.detail}; {role} {authority.country}'s part: {text}",
                               lane=effect.value)
