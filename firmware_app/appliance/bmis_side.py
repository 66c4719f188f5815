"""The BMIS boundary of the appliance: the lane's outbox, the link, commands, status, statistics.

One adapter crosses it: LaneOutbox, the lane's OutboxPort on the BMIS link. Crossing records go
to the outbox first (the system of record: a failure there stops the lane), then into the hourly
statistics (a failure there is logged: a count is not worth a closed lane). Finished hours are
published on `stats` by a small loop. The retained status follows the lane's own state (the
runner's observer), never its screens.

A link that is not configured (no `bmis.ca_file`, TLS files missing or unusable) does not stop the
lane: the outbox is local and is built anyway, so every crossing is still recorded; the link never
connects, a critical alarm `bmis_link_not_configured` is stored, health and status say so, and the
policy's `allow_offline` decides per traveller (referred as `bmis_unreachable` when false).
A side that cannot be built at all (a store would not open) is an OfflineBmisSide: records still go
to a local outbox if one opens, nothing else (the Appliance has made that a device fault).
"""
from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from drivers.gate.layout import Door
from firmware_app.bmis.command_wiring import CommandSide, build_command_side
from firmware_app.bmis.contract import utc_now
from firmware_app.bmis.errors import MqttSettingsError
from firmware_app.bmis.link import BmisLink, GateState, Severity
from firmware_app.bmis.stats import sample_of
from firmware_app.bmis.wiring import build_link, open_outbox
from firmware_app.errors import GateError
from firmware_app.lane import events as ev
from firmware_app.lane.errors import LaneNotRunning
from firmware_app.policy import AlertListUnavailable, LaneMode

from .errors import ComponentUnavailable, OverrideRefused
from .pki_updates import TrustStoreUpdater

log = logging.getLogger("gate.app.bmis")
STATS_CHECK_S = 60.0
MAX_UNCOUNTED = 10_000      # crossings waiting to be counted, as samples (no name, number or birth date)
MAX_DETAIL = 512
NOT_CONFIGURED = "bmis_link_not_configured"
_CRITICAL = {"emergency", "tamper", "door_forced", "tailgating", "alert_list_hit", "transaction_voided",
             "person_inside", "lane_stalled"}
_LANE_DOORS = {"entry": Door.ENTRY, "exit": Door.EXIT, "all": None}
_INFO = {"not_entered", "assistance_requested", "traveller_lingering", "stale_event"}


def severity_of(kind_value: str) -> Severity:
    if kind_value in _CRITICAL:
        return Severity.CRITICAL
    return Severity.INFO if kind_value in _INFO else Severity.WARNING


class LaneOutbox:
    """The lane's OutboxPort (firmware_app/lane/ports.py) on the BMIS link.

    Every call stores durably before it returns; OutboxFull and other link errors propagate so the
    runner turns them into a fault (doors secured, out of service) and owes the write; the link
    itself raises the outbox_full alarm. Kinds arrive as the lane's enums: only their `.value` is
    used, so the BMIS layer does not import the lane. With `stats`, each stored crossing is counted;
    a count the statistics could not store (a full disk) is kept and tried again with the next
    crossing, so it is late rather than lost."""

    def __init__(self, link: BmisLink, stats=None, clock: Callable[[], datetime] = utc_now):
        self._link, self._stats, self._clock = link, stats, clock
        self._uncounted: collections.deque = collections.deque(maxlen=MAX_UNCOUNTED)   # StatSample

    def crossing(self, record: Any) -> None:
        data = record.to_dict()
        self._link.record_crossing(data)        # raises on failure: the runner takes the lane down
        if self._stats is not None:
            self._count(self.counted(record, data))

    def counted(self, record: Any, data: dict) -> dict:
        """What the statistics count of a stored record: the record itself (see onestop_stats.py)."""
        return data

    def _count(self, data: dict) -> None:
        try:
            self._uncounted.append(sample_of(data))     # only what the count keeps
        except GateError as exc:
            log.error("crossing not countable: %s", type(exc).__name__)
        while self._uncounted:
            try:
                self._stats.add_sample(self._uncounted[0], self._clock())
            except GateError as exc:
                log.error("statistics not updated (%d waiting): %s", len(self._uncounted), type(exc).__name__)
                return
            self._uncounted.popleft()

    def has_crossing(self, txn_id: str) -> bool:
        return self._link.outbox.has_crossing(txn_id)

    def exception(self, kind: Any, txn_id: str | None, detail: str) -> None:
        data = {"kind": kind.value, "severity": severity_of(kind.value).value}
        if txn_id:
            data["transaction_id"] = txn_id
        if detail:
            data["detail"] = detail[:MAX_DETAIL]
        self._link.record_exception(data)

    def alarm(self, kind: Any, txn_id: str | None, detail: str) -> None:
        extra: dict[str, Any] = {"transaction_id": txn_id} if txn_id else {}
        self._link.raise_alarm(kind.value, severity_of(kind.value), detail=detail[:MAX_DETAIL], **extra)


class RefusingOutbox:
    """No outbox could be opened: every record is refused, so the runner keeps the lane down."""

    def __init__(self, error: ComponentUnavailable):
        self.error = error

    def crossing(self, record) -> None:
        raise self.error

    def has_crossing(self, txn_id: str) -> bool:
        raise self.error     # cannot tell: the open transaction stays open for the next start

    def exception(self, kind, txn_id, detail) -> None:
        log.error("exception %s not recorded: %s", getattr(kind, "value", kind), self.error)
        raise self.error

    def alarm(self, kind, txn_id, detail) -> None:
        log.error("alarm %s not recorded: %s", getattr(kind, "value", kind), self.error)
        raise self.error


class EmptyAlertLists:
    """No alert store: the lists cannot be consulted, which the policy turns into a referral."""

    def check_document(self, issuing_state, number):
        raise AlertListUnavailable("no alert-list store (BMIS side not built)")

    def check_person(self, primary, secondary, birth_date):
        raise AlertListUnavailable("no alert-list store (BMIS side not built)")


class StatsPublisher:
    """Every finished hour's report goes to the outbox once, then is marked reported."""

    def __init__(self, stats, link: BmisLink, clock: Callable[[], datetime], check_s: float = STATS_CHECK_S):
        self._stats, self._link, self._clock, self._check_s = stats, link, clock, check_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bmis-stats", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def publish_due(self) -> int:
        now = self._clock()
        self._stats.tick(now)
        reports = self._stats.due_reports(now)
        for report in reports:
            self._link.publish_stats(report)
            self._stats.mark_reported(report["period_start"])
        return len(reports)

    def _run(self) -> None:
        while True:
            try:
                self.publish_due()
            except GateError as exc:
                log.error("statistics report failed: %s", type(exc).__name__)
            if self._stop.wait(self._check_s):
                return


def software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("border-gate")
    except PackageNotFoundError:
        return "unknown"


class LaneStatus:
    """The retained status follows the lane's resting state: online (idle or closed), or
    out_of_service with the lane state as the reason. Transaction steps change nothing. While
    online, `link_note` may give a reason too (e.g. bmis_link_not_configured)."""

    RESTING: ClassVar[dict[str, GateState]] = {"idle": GateState.ONLINE, "closed": GateState.ONLINE,
               "out_of_service": GateState.OUT_OF_SERVICE, "emergency": GateState.OUT_OF_SERVICE}

    def __init__(self, publish: Callable[..., None], direction: str,
                 link_note: Callable[[], str | None] = lambda: None):
        self._publish, self._direction, self._link_note = publish, direction, link_note
        self._version = software_version()
        self._last: tuple[str, str] | None = None

    def update(self, lane_state: str, mode: str) -> None:
        gate_state = self.RESTING.get(lane_state)
        if gate_state is None or (lane_state, mode) == self._last:
            return
        self._last = (lane_state, mode)
        reason = lane_state if gate_state is GateState.OUT_OF_SERVICE else self._link_note()
        self._publish(gate_state, mode=mode, reason=reason, direction=self._direction,
                      software_version=self._version)


class RunnerLaneControl:
    """The lane as BMIS commands see it (firmware_app.bmis.command_handlers.LaneControl)."""

    def __init__(self, clock: Callable[[], datetime], override_wait_s: float = 2.0):
        self._runner, self._clock = None, clock
        self._override_wait_s = override_wait_s
        self._overrides = 0     # numbers overrides that reach us without the BMIS command id

    def attach(self, runner) -> None:
        """The runner is built after the BMIS side (it needs the outbox); commands wait for it."""
        self._runner = runner

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None:
        if self._runner is None:
            raise LaneNotRunning("the lane is not running yet")
        log.info("lane mode -> %s by BMIS command", mode.value)
        self._runner.submit(ev.ModeChanged(LaneMode(mode)))

    def override_door(self, action, door, operator_id: str, command_id: str | None = None) -> None:
        """The lane decides (never during a passage or an emergency) and audits it; a refusal or no
        answer in time is raised as OverrideRefused, which the command processor nacks."""
        if self._runner is None:
            raise LaneNotRunning("the lane is not running yet")
        self._overrides += 1
        event = ev.OfficerOverride(_LANE_DOORS[str(getattr(door, "value", door))],
                                   ev.OverrideAction(str(getattr(action, "value", action))),
                                   operator_id, command_id or f"override-{self._overrides}")
        answer = self._runner.officer_override(event, self._override_wait_s)
        if answer is None:
            raise OverrideRefused("the lane did not answer in time; nothing was done")
        if not answer.accepted:
            raise OverrideRefused(f"refused by the lane: {answer.refusal.value}")
        log.info("officer override %s %s carried out", event.action.value, event.door.value if event.door else "all")

    def request_status(self) -> dict:
        data = self._runner.data if self._runner is not None else None
        if data is None:
            return {"state": "starting"}
        return {"state": data.state.value, "mode": data.mode.value, "faults": sorted(f.value for f in data.faults),
                "emergency": data.emergency, "presence": data.presence, "transactions": data.txn_count}


@dataclass
class BmisSide:
    link: BmisLink
    commands: CommandSide
    lane_control: RunnerLaneControl
    outbox: LaneOutbox
    stats_publisher: StatsPublisher
    pki_updater: TrustStoreUpdater      # pki-update commands; attached to the chip stage
    direction: str
    link_problem: str | None = None     # why the link cannot connect; records are then kept locally

    def __post_init__(self) -> None:
        self.status = LaneStatus(self.set_status, self.direction, self.link_note)

    @property
    def alerts(self):
        return self.commands.alerts

    def reachable(self) -> bool:
        return self.link.connected

    def attach(self, runner, chip, trust_store_restored: Callable[[], None]) -> None:
        """Commands reach the lane once it exists; a pki-update reaches the chip stage."""
        self.lane_control.attach(runner)
        self.pki_updater.attach(chip, trust_store_restored)

    def lane_changed(self, data) -> None:
        """The lane runner's observer: its state and mode after each step (LaneData)."""
        self.status.update(data.state.value, data.mode.value)

    def start(self) -> None:
        if self.link_problem is None:
            try:
                self.link.start()
            except MqttSettingsError as exc:    # TLS files missing or unusable: found when connecting
                self.link_problem = str(exc)
        if self.link_problem is not None:
            self._report_not_configured()
        self.stats_publisher.start()

    def link_note(self) -> str | None:
        return NOT_CONFIGURED if self.link_problem is not None else None

    # --- what the Appliance asks of any BMIS side (OnestopSides answers the same) ----------------
    def side_health(self) -> dict[str, dict[str, str]]:
        if self.link_problem is None:
            return {}
        return {"bmis_link": {"status": "failed", "detail": "not_configured", "note": self.link_problem[:200]}}

    def device_links(self) -> tuple[BmisLink, ...]:
        """The links that take the device's own alarms (the updater's)."""
        return (self.link,)

    def certificate_reloads(self) -> int:
        return self.link.identity_reloads

    def reload_identity(self) -> bool:
        return self.link.reload_identity()

    def outbox_counts(self):
        return self.link.outbox.counts()

    def _report_not_configured(self) -> None:
        log.error("BMIS link not configured (%s): records are kept in the local outbox only", self.link_problem)
        try:
            self.link.raise_alarm(NOT_CONFIGURED, Severity.CRITICAL, detail=(self.link_problem or "")[:512])
        except GateError as exc:
            log.error("alarm %s not stored: %s", NOT_CONFIGURED, type(exc).__name__)

    def stop(self) -> None:
        self.stats_publisher.stop()
        self.link.stop()
        self.commands.close()
        self.link.outbox.close()

    def set_status(self, state: GateState, **fields) -> None:
        try:
            self.link.set_status(state, **fields)
        except GateError as exc:
            log.error("status not queued: %s", type(exc).__name__)


class OfflineBmisSide:
    """Stands in for a BMIS side that could not be built: no commands, no alert lists (the policy
    refers), no status. Records go to a local outbox (`link` never connects) when one opens; else
    `outbox` refuses every record."""

    link_problem = None

    def __init__(self, outbox, link: BmisLink | None = None):
        self.outbox, self.link = outbox, link
        self.alerts = EmptyAlertLists()

    def reachable(self) -> bool:
        return False

    def attach(self, runner, chip, trust_store_restored: Callable[[], None]) -> None:
        log.warning("no BMIS commands: the lane and the trust store are not reachable by the BMIS")

    def lane_changed(self, data) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        if self.link is not None:
            self.link.outbox.close()

    def side_health(self) -> dict[str, dict[str, str]]:
        return {}       # the Appliance has made this side's failure a device fault

    def device_links(self) -> tuple[BmisLink, ...]:
        return (self.link,) if self.link is not None else ()

    def certificate_reloads(self) -> int:
        return self.link.identity_reloads if self.link is not None else 0

    def reload_identity(self) -> bool:
        return self.link is not None and self.link.reload_identity()

    def outbox_counts(self):
        if self.link is None:
            raise ComponentUnavailable("outbox", "no outbox could be opened")
        return self.link.outbox.counts()


def _never_connect(callbacks, subscriptions, will):
    raise MqttSettingsError("the BMIS link is not configured")


def local_link(config, clock: Callable[[], datetime]) -> BmisLink:
    """The outbox without a broker: every record is stored (the system of record), none is sent."""
    return BmisLink(open_outbox(config, clock=clock), connection_factory=_never_connect,
                    window=config.bmis.max_inflight)


def link_or_local(config, commands: CommandSide, clock: Callable[[], datetime],
                  **link_options) -> tuple[BmisLink, str | None]:
    """The BMIS link of `config`, or, when its settings are unusable, a local link (records kept in the
    outbox) with the reason. A gate error closes the command side it would have served."""
    try:
        try:
            return build_link(config, handle_command=commands.processor.handle, clock=clock, **link_options), None
        except MqttSettingsError as exc:
            return local_link(config, clock), str(exc)
    except GateError:
        commands.close()
        raise


def offline_side(config, clock: Callable[[], datetime]) -> OfflineBmisSide:
    """Raises GateError when not even the local outbox opens."""
    link = local_link(config, clock)
    return OfflineBmisSide(LaneOutbox(link), link)


def build_bmis_side(config, clock: Callable[[], datetime], health_source=None, health_info=None,
                    updates=None) -> BmisSide:
    """Raises GateError subclasses (TrustStoreError, store and outbox errors) to the caller; a link
    that is not configured gives a local-only side (see the module docstring)."""
    lane_control = RunnerLaneControl(clock)
    pki_updater = TrustStoreUpdater(config, clock)
    # no on_alarm: the link itself raises the alarm for a refused signature (result "alarm": true)
    commands = build_command_side(config, lane=lane_control, clock=clock, pki=pki_updater, updates=updates)
    link, problem = link_or_local(config, commands, clock, health_source=health_source, health_info=health_info)
    outbox = LaneOutbox(link, commands.stats, clock)
    return BmisSide(link, commands, lane_control, outbox, StatsPublisher(commands.stats, link, clock), pki_updater,
                    config.device.direction.value, problem)
