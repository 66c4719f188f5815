"""What the appliance reports about itself: lane liveness (the systemd watchdog), lane state and
mode, the health components sent to the BMIS and shown by `gatectl status`, the client certificate
in use. Read-only views over the parts core.Appliance built; mixed into it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from firmware_app.bmis.health import ComponentStatus
from firmware_app.deploy.cert_expiry import CertificateWatch
from firmware_app.lane.state import Fault
from firmware_app.lane.wiring import start_mode
from firmware_app.status.versions import expiry_summary

from .errors import ComponentUnavailable
from .field_ops import FieldOps
from .onestop import OnestopSides
from .timesync import ClockWatch


class ApplianceObservation:
    # set by core.Appliance.__init__ (declared here for the type checker only)
    config: Any
    clock: Callable[[], datetime]
    bmis: Any
    runner: Any
    faults: list[tuple[Fault, ComponentUnavailable]]
    clock_watch: ClockWatch
    cert_watch: CertificateWatch
    officer_problem: str | None
    ops: FieldOps
    _started: bool

    def bmis_reachable(self) -> bool:
        return self.bmis.reachable()

    def reload_client_certificate(self) -> bool:
        """SIGHUP (systemctl reload gate-app, after `gatectl cert renew`): reconnect the BMIS link
        if its certificate files changed; the reconnection loads them."""
        return self.bmis.reload_identity()

    def lane_alive(self) -> bool:
        """The lane loop runs, is not stuck and never broke (what the systemd watchdog ping needs)."""
        return self._started and self.runner.healthy()

    def health(self) -> dict[str, dict[str, str]]:
        failed = ComponentStatus.FAILED.value
        components = {"lane": {"status": ComponentStatus.OK.value if self.lane_alive() else failed,
                               "detail": self.lane_state()},
                      "clock": self.clock_watch.health_entry()}
        certificate = self.cert_watch.entry(self.clock(), self.bmis.certificate_reloads())
        if certificate is not None:
            components["certificate"] = certificate
        for fault, error in self.faults:
            components[error.component] = {"status": failed, "detail": fault.value, "note": error.reason[:200]}
        components.update(self.bmis.side_health())       # e.g. a link that is not configured
        if self.officer_problem is not None:
            components["officer_console"] = {"status": failed, "detail": "unavailable",
                                             "note": self.officer_problem[:200]}
        return components

    def lane_state(self) -> str:
        data = self.runner.data
        return data.state.value if data is not None else "starting"

    def _lane_mode(self) -> str:
        data = self.runner.data
        return data.mode.value if data is not None else start_mode(self.config).value

    def _outbox_counts(self):
        return self.bmis.outbox_counts()

    def _certificate_in_use(self) -> dict | None:
        if isinstance(self.bmis, OnestopSides):     # each authority's, not the lane's [bmis] (normally none)
            return self.bmis.certificates()
        facts = self.cert_watch.in_use
        return expiry_summary(facts.not_after, self.clock()) if facts is not None else None

    def health_info(self) -> dict:
        """The health message's 1.2 fields (versions, certificate, last update)."""
        return self.ops.health_info()

