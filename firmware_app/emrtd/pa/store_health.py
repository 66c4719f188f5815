"""What in a CSCA trust store needs a technician's attention (`gatectl pki check`).

A master list carries many expired CSCAs on purpose (superseded keys); those are only noted. What
needs attention is a country about to be left without a usable anchor, and revocation data gone
stale:
- EXPIRED: every anchor of a country has expired (its passports can no longer be verified);
- EXPIRING: the country's last anchor ends within the warning window;
- CRL_STALE: an issuer's newest CRL is past its nextUpdate;
- UNUSABLE_FILE: a file the gate would refuse (it then starts without any trust store);
- NO_ANCHORS: the store holds no CSCA at all (every traveller would be referred).
Noted without attention: superseded (expired) anchors, CSCAs with no CRL at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from firmware_app.emrtd.pa.names import name_key
from firmware_app.emrtd.pa.trust_store import TrustStore


class Finding(Enum):
    EXPIRED = "expired"
    EXPIRING = "expiring"
    CRL_STALE = "crl_stale"
    UNUSABLE_FILE = "unusable_file"
    NO_ANCHORS = "no_anchors"
    SUPERSEDED = "superseded"
    NO_CRL = "no_crl"


ATTENTION = {Finding.EXPIRED, Finding.EXPIRING, Finding.CRL_STALE, Finding.UNUSABLE_FILE, Finding.NO_ANCHORS}


@dataclass(frozen=True)
class HealthItem:
    finding: Finding
    country: str
    detail: str

    @property
    def needs_attention(self) -> bool:
        return self.finding in ATTENTION

    def to_json(self) -> dict:
        return {"finding": self.finding.value, "country": self.country, "detail": self.detail,
                "attention": self.needs_attention}


def check_store(store: TrustStore, now: datetime, warn_days: int) -> list[HealthItem]:
    items = [HealthItem(Finding.UNUSABLE_FILE, "--", problem[:300]) for problem in store.problems]
    countries = _by_country(store)
    if not countries:
        items.append(HealthItem(Finding.NO_ANCHORS, "--", "no CSCA certificate: passive authentication fails"))
    for country, anchors in sorted(countries.items()):
        items += _anchor_items(country, anchors, now, now + timedelta(days=warn_days))
        items += _crl_items(country, anchors, store, now)
    return items


def _by_country(store: TrustStore) -> dict[str, list]:
    countries: dict[str, list] = {}
    for cert in store.cscas:
        if cert.ca:
            countries.setdefault(str(cert.subject.native.get("country_name", "??")).upper(), []).append(cert)
    return countries


def _anchor_items(country: str, anchors: list, now: datetime, horizon: datetime) -> list[HealthItem]:
    last = max(cert.not_valid_after for cert in anchors)
    superseded = sum(cert.not_valid_after < now for cert in anchors)
    if last < now:
        return [HealthItem(Finding.EXPIRED, country, f"all {len(anchors)} anchors expired, the last {last.date()}")]
    items = ([HealthItem(Finding.SUPERSEDED, country, f"{superseded} expired anchors besides valid ones")]
             if superseded else [])
    if last < horizon:
        items.append(HealthItem(Finding.EXPIRING, country, f"the last anchor expires {last.date()}"))
    return items


def _crl_items(country: str, anchors: list, store: TrustStore, now: datetime) -> list[HealthItem]:
    items = []
    for issuer in {name_key(cert.subject): cert for cert in anchors if cert.not_valid_after >= now}.values():
        crls = store.crls_of(issuer)
        if not crls:
            items.append(HealthItem(Finding.NO_CRL, country, f"no CRL for {issuer.subject.human_friendly}"))
            continue
        newest = max((c["tbs_cert_list"]["next_update"].native for c in crls), key=lambda t: t or now)
        if newest is not None and newest < now:
            items.append(HealthItem(Finding.CRL_STALE, country,
                                    f"newest CRL's nextUpdate {newest.isoformat()} has passed"))
    return items
