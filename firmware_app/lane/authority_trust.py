"""Each authority's own trust store on a one-stop lane (issue 17).

The chip is read once; its passive authentication (and the PACE-CAM signer chain) is then judged
against each authority's own CSCAs, CRLs and master lists, so the same document can be genuine
for one country and of unknown origin for the other. ChipReadStage puts one TrustView per
authority into the evidence (ChipEvidence.views); each authority's policy and record use its own.

An authority without a store of its own shares the lane's (`[smartcard]`); a store that could not
be loaded is None (passive authentication then fails with NO_TRUST_STORE: that authority refers).
A pki-update of one authority replaces only its own entry, by one reference swap: a read in
progress keeps the stores it started with.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from firmware_app.emrtd.lds.sod import SecurityObject
from firmware_app.emrtd.pa import passive_authenticate


class AuthorityTrust:
    def __init__(self, stores: dict[str, Any]):
        """`stores`: role value ("exit", "entry") -> that authority's TrustStore, or None."""
        self._stores: tuple[tuple[str, Any], ...] = tuple(stores.items())
        self._lock = threading.Lock()

    def stores(self) -> tuple[tuple[str, Any], ...]:
        return self._stores

    def store(self, role: str) -> Any:
        return dict(self._stores).get(role)

    def install(self, role: str, store: Any) -> None:
        """One authority's new store (its pki-update); the other's entry is kept as it is."""
        with self._lock:
            if role not in dict(self._stores):
                raise KeyError(role)
            self._stores = tuple((r, store if r == role else s) for r, s in self._stores)

    def trusts(self, sod: SecurityObject, now: datetime) -> bool:
        """Some authority's store vouches for the SOD's signer (CA/AA maths then run on its keys)."""
        return any(store is not None and passive_authenticate(sod, {}, store, now).passed
                   for _, store in self._stores)
