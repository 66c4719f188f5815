"""The status snapshot: one dict for `gatectl status`, the metrics textfile and (its versions and
certificate part) the BMIS health message. Sources are callables the appliance hands in; one
that fails is reported in place ("error"), the rest of the snapshot still answers."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .events import RecentEvents

log = logging.getLogger(__name__)


@dataclass
class StatusSources:
    device_id: str
    lane_state: Callable[[], str]
    lane_mode: Callable[[], str]
    outbox: Callable[[], Any]                    # OutboxCounts (or a dict)
    components: Callable[[], dict]               # health components, as the BMIS health message has them
    certificate: Callable[[], dict | None]
    last_update: Callable[[], dict | None]
    versions: dict = field(default_factory=dict)     # app, models, schemas: fixed for the process
    events: RecentEvents = field(default_factory=RecentEvents)
    clock: Callable[[], datetime] = datetime.now
    monotonic: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.monotonic)


def _read(source: Callable[[], Any], what: str) -> Any:
    try:
        return source()
    except Exception as exc:
        log.warning("status source %s failed: %s", what, type(exc).__name__)
        return {"error": f"{type(exc).__name__}"}


def outbox_summary(counts: Any) -> dict:
    """OutboxCounts as the snapshot carries them (a dict is taken as it is)."""
    if isinstance(counts, dict):
        return counts
    return {"pending": counts.pending, "unreceipted": counts.unreceipted, "dead_letters": counts.dead_letters,
            "oldest_pending_age_s": round(counts.oldest_pending_age_s, 3),
            "oldest_unreceipted_age_s": round(counts.oldest_unreceipted_age_s, 3)}


def build_snapshot(s: StatusSources) -> dict:
    return {"device_id": s.device_id, "time": s.clock().isoformat(timespec="seconds"),
            "state": _read(s.lane_state, "lane state"), "mode": _read(s.lane_mode, "lane mode"),
            "uptime_s": round(s.monotonic() - s.started, 1),
            "outbox": _read(lambda: outbox_summary(s.outbox()), "outbox"),
            "devices": _read(s.components, "health"),
            "versions": s.versions, "certificate": _read(s.certificate, "certificate"),
            "last_update": _read(s.last_update, "last update"),
            "last_events": s.events.last()}


def health_info(snapshot_versions: dict, certificate: dict | None, last_update: dict | None) -> dict:
    """The health message's 1.2 fields (schemas/health.json): software and model versions, the
    certificate's expiry, the last update's outcome."""
    info: dict[str, Any] = {"software_version": str(snapshot_versions.get("app", "unknown"))[:64]}
    models = snapshot_versions.get("models") or {}
    if isinstance(models.get("models"), dict):
        info["models"] = {k: {"name": v["name"], "sha256": v["sha256"]} for k, v in models["models"].items()}
        info["pad_available"] = bool(models.get("pad_available"))
    if certificate and "days_left" in certificate:
        info["certificate"] = {"not_after": certificate["not_after"], "days_left": certificate["days_left"]}
    if last_update and isinstance(last_update.get("outcome"), str):
        info["last_update"] = {"outcome": last_update["outcome"][:32],
                               "version": str(last_update.get("to_version"))[:64]}
    return info
