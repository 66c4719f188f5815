"""What a technician and the post's operations see of a running gate, wired in one place:
`gatectl status` (socket), the metrics textfile, the BMIS health message's 1.2 fields, the last
lane events, the updater's alarms handed to the outbox, and the app's half of `update-apply`.

    ops = FieldOps(config, clock=..., lane_state=..., lane_mode=..., outbox_counts=..., components=...,
                   links=lambda: appliance.bmis.device_links())
    lane outbox = ops.tap(outbox)            # notes crossings, exceptions, alarms (codes only)
    link: health_info=ops.health_info;  command side: updates=ops.update_port()
    ops.start()  ...  ops.stop()

None of it can stop the lane: each part logs its own failure and the gate goes on.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware_app import __version__
from firmware_app.bmis.link import Severity
from firmware_app.config.onestop import StatusReasons
from firmware_app.deploy.alarm_forwarder import forward_deploy_alarms
from firmware_app.deploy.requests import UpdateRequests
from firmware_app.deploy.update import last_update
from firmware_app.deploy.wiring import packages_dir
from firmware_app.errors import GateError
from firmware_app.policy import ReasonCode
from firmware_app.status.events import RecentEvents
from firmware_app.status.service import StatusService
from firmware_app.status.snapshot import StatusSources, health_info
from firmware_app.status.versions import certificate_expiry, model_versions

log = logging.getLogger("gate.app.ops")
# On a one-stop post what the device shows (`gatectl status`) is both authorities': an alert-list
# hit is one authority's alone (docs/onestop.md), so neither its reason nor its alarm is noted there.
ALERT_CODES = frozenset({ReasonCode.ALERT_LIST_HIT.value, ReasonCode.EXIT_BAN.value})


def recent_events(config) -> RecentEvents:
    """The last events `gatectl status` shows, as this gate may show them (see ALERT_CODES; a one-stop
    agreement may also keep every rule reason out: [onestop] status_reasons)."""
    if not config.authority:
        return RecentEvents()
    return RecentEvents(withheld=ALERT_CODES, reasons=config.onestop.status_reasons is StatusReasons.RULES)


class TappedOutbox:
    """The lane's outbox port, noting what passes through it for `gatectl status`."""

    def __init__(self, outbox, events: RecentEvents, clock: Callable[[], datetime]):
        self._outbox, self._events, self._clock = outbox, events, clock

    def crossing(self, record: Any) -> None:
        self._outbox.crossing(record)
        self._events.crossing(record.to_dict() if hasattr(record, "to_dict") else dict(record))

    def has_crossing(self, txn_id: str) -> bool:
        return self._outbox.has_crossing(txn_id)

    def exception(self, kind: Any, txn_id: str | None, detail: str) -> None:
        self._outbox.exception(kind, txn_id, detail)
        self._events.exception(kind, self._now())

    def alarm(self, kind: Any, txn_id: str | None, detail: str) -> None:
        self._outbox.alarm(kind, txn_id, detail)
        self._events.alarm(kind, self._now())

    def _now(self) -> str:
        return self._clock().isoformat(timespec="seconds")


class FieldOps:
    def __init__(self, config, *, clock: Callable[[], datetime], lane_state: Callable[[], str],
                 lane_mode: Callable[[], str], outbox_counts: Callable[[], Any], components: Callable[[], dict],
                 links: Callable[[], tuple], certificate: Callable[[], dict | None] | None = None):
        """`links`: the BMIS links whose outboxes take the device's alarms (one per authority on a
        one-stop post, which both run the device; none while there is none).
        `certificate`: the expiry of the client certificate in use (the appliance's certificate
        watch); without it, the configured file as it is now."""
        self.config, self._clock, self._links, self._certificate = config, clock, links, certificate
        self.events = recent_events(config)
        self.versions = {"app": __version__, "models": model_versions(Path(config.face.models_dir))}
        self.sources = StatusSources(config.device.id, lane_state, lane_mode, outbox_counts, components,
                                     self.certificate, self.last_update, self.versions, self.events, clock)
        self.status = StatusService.from_config(config, self.sources)

    def certificate(self) -> dict | None:
        if self._certificate is not None:
            return self._certificate()
        return certificate_expiry(self.config.bmis.cert_file, self._clock())

    def last_update(self) -> dict | None:
        return last_update(packages_dir(self.config))

    def health_info(self) -> dict:
        return health_info(self.versions, self.certificate(), self.last_update())

    def tap(self, outbox) -> TappedOutbox:
        return TappedOutbox(outbox, self.events, self._clock)

    def update_port(self) -> UpdateRequests:
        return UpdateRequests(Path(self.config.device.data_dir), self.config.update.download_max_mb << 20,
                              self._download_failed)

    def raise_alarm(self, kind: str, severity: str, detail: str, msg_id: uuid.UUID | None = None) -> None:
        """Into every outbox, or a GateError (no link, an outbox full): the caller keeps what it has
        and hands it over again later; with its msg_id an outbox that already holds it skips it."""
        links = self._links()
        if not links:
            raise GateError("no outbox to take the alarm")
        refused = None
        for link in links:
            try:
                link.raise_alarm(kind, Severity(severity), detail=detail[:512], msg_id=msg_id)
            except GateError as exc:    # the other authority still gets it now
                refused = exc
        if refused is not None:
            raise refused

    def _download_failed(self, kind: str, detail: str) -> None:
        try:
            self.raise_alarm(kind, "warning", detail)
        except GateError as exc:
            log.error("alarm %s not stored: %s", kind, type(exc).__name__)

    def start(self) -> None:
        forwarded = forward_deploy_alarms(Path(self.config.device.data_dir), self.raise_alarm)
        if forwarded:
            log.info("%d update alarm(s) handed to the BMIS outbox", len(forwarded))
        self.status.start()

    def stop(self) -> None:
        self.status.stop()
