"""Each authority's own trust store on a one-stop post (issue 17): loading, health, pki-update.

An authority with `csca_dir` has a store of its own (its CSCAs, CRLs and master lists, pinned to
its own `master_list_roots`); passive authentication of the one chip read is judged against it
(lane/authority_trust.py), and that authority's signed pki-update commands write only there. An
authority without one shares the lane's `[smartcard]` store, and its pki-update stays refused: it
must not change what the other country trusts.

A store of its own that is absent (no directory yet) or does not load: that authority cannot
verify any document. With its `policy.allow_offline` the lane runs and that authority refers every
traveller (passive authentication `no_trust_store`); without it the lane is out of service (a
device fault `trust_store_<role>`) until the authority's pki-update gives it a usable store.
The other authority is unaffected either way. When both authorities have stores of their own the
lane's [smartcard] store judges nothing, so it is not loaded and cannot fault the lane.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware_app.config.onestop import AuthoritySection
from firmware_app.lane.authority_trust import AuthorityTrust
from firmware_app.policy.onestop import Role

from . import devices
from .errors import ComponentUnavailable
from .pki_updates import TrustStoreUpdater

log = logging.getLogger("gate.app.onestop")


def own_smartcard(config, authority: AuthoritySection):
    """The [smartcard] section as this authority's trust store sees it (its own files)."""
    if authority.csca_dir is None:
        return config.smartcard
    return config.smartcard.model_copy(update={"csca_dir": authority.csca_dir, "master_list": authority.master_list,
                                               "master_list_roots": list(authority.master_list_roots)})


def lane_store_used(config) -> bool:
    """Whether the lane's [smartcard] store judges any chip: not on a one-stop lane whose
    authorities all have stores of their own (it is then neither loaded nor a fault)."""
    return not config.authority or any(a.csca_dir is None for a in config.authority)


class AuthorityStores:
    """The stores of the authorities that have their own, and what is wrong with each."""

    def __init__(self, trust: AuthorityTrust | None, problems: dict[Role, ComponentUnavailable],
                 allow_offline: dict[Role, bool]):
        self.trust, self.problems, self._allow_offline = trust, dict(problems), allow_offline

    def faults(self) -> list[ComponentUnavailable]:
        """Missing stores whose authority does not let the lane run without them."""
        return [error for role, error in self.problems.items() if not self._allow_offline[role]]

    def health(self) -> dict[str, dict[str, str]]:
        return {error.component: {"status": "failed", "detail": "trust_store", "note": error.reason[:200]}
                for error in self.problems.values()}

    def restored(self, role: Role) -> bool:
        """`role`'s store now loads; True when no authority's missing store holds the lane any more."""
        self.problems.pop(role, None)
        return not self.faults()


def load_stores(authorities: dict[Role, AuthoritySection], configs: dict[Role, object]) -> AuthorityStores:
    """`configs`: each authority's config (its smartcard section its own, see own_smartcard)."""
    own = {role: a for role, a in authorities.items() if a.csca_dir is not None}
    stores, problems = {}, {}
    for role, _authority in own.items():
        try:
            stores[role.value] = _load(configs[role], role)
        except ComponentUnavailable as exc:
            log.error("%s authority's trust store unusable: it refers every traveller: %s", role.value, exc.reason)
            stores[role.value], problems[role] = None, exc
    trust = AuthorityTrust(stores) if own else None
    return AuthorityStores(trust, problems, {r: a.policy.allow_offline for r, a in authorities.items()})


def _load(config, role: Role):
    component = f"trust_store_{role.value}"
    if not Path(config.smartcard.csca_dir).is_dir():
        raise ComponentUnavailable(component, f"no CSCA directory {config.smartcard.csca_dir}")
    try:
        return devices.load_trust_store(config)
    except ComponentUnavailable as exc:
        raise ComponentUnavailable(component, exc.reason) from exc


class AuthorityStoreUpdater(TrustStoreUpdater):
    """One authority's pki-update: imports into its own csca_dir, then swaps only its own store."""

    def __init__(self, config, clock: Callable[[], datetime], role: Role, stores: AuthorityStores):
        super().__init__(config, clock)
        self._role, self._stores = role, stores

    def attach(self, chip_stage, on_restored: Callable[[], None] = lambda: None) -> None:
        self._on_restored = on_restored     # the chip stage reads the stores through AuthorityTrust

    def reload_from_disk(self) -> bool:
        """SIGHUP (after `gatectl pki import --authority`): its store read again from its csca_dir;
        one that does not load leaves the store in use (logged). True when a store was installed."""
        try:
            store = _load(self._config, self._role)
        except ComponentUnavailable as exc:
            log.error("%s authority's trust store not reloaded (the one in use stays): %s", self._role.value,
                      exc.reason)
            return False
        with self._lock:
            self._install(store)
        log.info("%s authority's trust store reloaded: %d anchors, %d CRLs", self._role.value, len(store.cscas),
                 len(store.crls))
        return True

    def _install(self, store) -> None:
        assert self._stores.trust is not None       # built only for an authority with its own store
        was_missing = self._stores.trust.store(self._role.value) is None
        self._stores.trust.install(self._role.value, store)
        if was_missing and self._stores.restored(self._role):
            self._on_restored()
