"""Each one-stop authority's own certificates as health components, and their reload on SIGHUP
(issue 17), following the single-authority lane (deploy/cert_expiry.py, `certificate`).

- `certificate_<role>`: the authority's BMIS client certificate ([authority.bmis] cert_file), judged
  as the lane's is: `ok`, `degraded` `cert_expires_within_30d|7d|1d`, `failed` `cert_expired`;
  after a renewal the certificate in use until its link reconnects.
- `trust_store_<role>` (an authority with a store of its own): `failed` while it is absent or does
  not load (onestop_trust.py); else `degraded` when `gatectl pki check` would warn (a country's
  last CSCA expired or ending within TRUST_WARN_DAYS, a CRL past its nextUpdate, no CSCA at all,
  a file the store refuses), else `ok`.

Each authority's health message carries only its own entries (onestop.own_health), and its
`certificate` summary (health 1.2) is its own client certificate's (`own_info`); `gatectl status`
and the metrics textfile show each authority's (`certificates`), never the lane's [bmis] one.
SIGHUP (`systemctl reload gate-app`): each authority's link reconnects if its certificate files
changed, and each own trust store is read again from its csca_dir (after `gatectl pki import
--authority ROLE`); a store that does not load leaves the one in use. No restart of the lane.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from firmware_app.deploy.cert_expiry import CertificateWatch
from firmware_app.emrtd.pa.store_health import Finding, HealthItem, check_store
from firmware_app.policy.onestop import Role
from firmware_app.status.versions import expiry_summary

TRUST_WARN_DAYS = 90        # as `gatectl pki check --days`
# the finding an entry names first: the one that leaves the most travellers unverifiable
_ORDER = (Finding.NO_ANCHORS, Finding.UNUSABLE_FILE, Finding.EXPIRED, Finding.CRL_STALE, Finding.EXPIRING)


def trust_store_entry(store, now: datetime, warn_days: int = TRUST_WARN_DAYS) -> dict[str, str]:
    """One loaded store's freshness as a health component."""
    items = [item for item in check_store(store, now, warn_days) if item.needs_attention]
    if not items:
        return {"status": "ok", "detail": f"anchors_{len(store.cscas)}"}
    items.sort(key=lambda item: _ORDER.index(item.finding))
    return {"status": "degraded", "detail": items[0].finding.value, "note": _note(items)}


def _note(items: list[HealthItem]) -> str:
    return ("; ".join(f"{item.country}: {item.detail}" for item in items) + " (gatectl pki check --authority)")[:200]


class AuthorityHealth:
    """The certificate watches of both authorities and the freshness of their own stores."""

    def __init__(self, cert_files: dict[Role, Path | None], stores, clock, countries: dict[Role, str] | None = None):
        """`stores`: onestop_trust.AuthorityStores; `clock`: the appliance's; `countries`: by role."""
        self._watches = {role: CertificateWatch(path) for role, path in cert_files.items()}
        self._countries = countries or {}
        self._stores, self._clock = stores, clock
        self._fresh: dict[str, tuple[object, str, dict[str, str]]] = {}    # role -> (store, hour, entry)

    def entries(self, sides) -> dict[str, dict[str, str]]:
        """`sides`: Role -> BmisSide (its link says how many renewed certificates it loaded)."""
        now = self._clock()
        found = {}
        for role, watch in self._watches.items():
            entry = watch.entry(now, sides[role].certificate_reloads())
            if entry is not None:
                found[f"certificate_{role.value}"] = entry
        return found | self._store_entries(now)

    def own_info(self, role: Role, lane_info: dict) -> dict:
        """The health message's 1.2 fields for this authority: the device's versions and last
        update, and `certificate` of ITS client certificate in use (never the lane's [bmis]; none
        when it has none)."""
        info = {name: value for name, value in lane_info.items() if name != "certificate"}
        facts = self._watches[role].in_use
        if facts is not None:
            summary = expiry_summary(facts.not_after, self._clock())
            info["certificate"] = {"not_after": summary["not_after"], "days_left": summary["days_left"]}
        return info

    def certificates(self) -> dict:
        """`gatectl status`' and the metrics' `certificate` on a one-stop post: each authority's client
        certificate in use, by role (with its country; no expiry when it has none)."""
        now, found = self._clock(), {}
        for role, watch in self._watches.items():
            entry: dict = {"country": self._countries.get(role, "")}
            if watch.in_use is not None:
                entry |= expiry_summary(watch.in_use.not_after, now)
            found[role.value] = entry
        return {"authorities": found}

    def _store_entries(self, now: datetime) -> dict[str, dict[str, str]]:
        if self._stores.trust is None:
            return {}
        found = {}
        for role, store in self._stores.trust.stores():
            if store is not None:
                found[f"trust_store_{role}"] = self._freshness(role, store, now)
        return found | self._stores.health()        # an absent or unusable store: failed

    def _freshness(self, role: str, store, now: datetime) -> dict[str, str]:
        """Worked out again for a new store or a new hour (a master list has hundreds of anchors)."""
        hour = f"{now:%Y-%m-%dT%H}"
        cached = self._fresh.get(role)
        if cached is None or cached[0] is not store or cached[1] != hour:
            cached = self._fresh[role] = (store, hour, trust_store_entry(store, now))
        return cached[2]
