"""The BMIS side of the appliance: link (outbox + MQTT), command side, statistics.

Crossing records go to the outbox first (the system of record: a failure there stops the lane),
then into the hourly statistics (a failure there is logged: a count is not worth a closed lane).
Finished hours are published on `stats` by a small loop.

A link that is not configured (no `bmis.ca_file`, TLS files missing or unusable) does not stop the
lane: the outbox is local and is built anyway, so every crossing is still recorded; the link never
connects, a critical alarm `bmis_link_not_configured` is stored, health and status say so, and the
policy's `allow_offline` decides per traveller (referred as `bmis_unreachable` when false).
"""
from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from firmware_app.bmis.command_wiring import CommandSide, build_command_side
from firmware_app.bmis.errors import MqttSettingsError
from firmware_app.bmis.lane_port import LaneOutbox
from firmware_app.bmis.link import BmisLink, GateState, Severity
from firmware_app.bmis.stats import sample_of
from firmware_app.bmis.wiring import build_link, open_outbox
from firmware_app.errors import GateError

from .bridges import RunnerLaneControl
from .pki_updates import TrustStoreUpdater

log = logging.getLogger("gate.app.bmis")
STATS_CHECK_S = 60.0
MAX_UNCOUNTED = 10_000      # crossings waiting to be counted, as samples (no name, number or birth date)
NOT_CONFIGURED = "bmis_link_not_configured"


class RecordingOutbox:
    """The lane's OutboxPort: the link's outbox, plus every crossing counted in the statistics.
    A count the statistics could not store (a full disk) is kept and tried again with the next
    crossing, so it is late rather than lost."""

    def __init__(self, outbox: LaneOutbox, stats, clock: Callable[[], datetime]):
        self._outbox, self._stats, self._clock = outbox, stats, clock
        self._uncounted: collections.deque = collections.deque(maxlen=MAX_UNCOUNTED)   # StatSample

    def crossing(self, record) -> None:
        self._outbox.crossing(record)           # raises on failure: the runner takes the lane down
        try:
            self._uncounted.append(sample_of(record.to_dict()))     # only what the count keeps
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
        return self._outbox.has_crossing(txn_id)

    def exception(self, kind, txn_id, detail) -> None:
        self._outbox.exception(kind, txn_id, detail)

    def alarm(self, kind, txn_id, detail) -> None:
        self._outbox.alarm(kind, txn_id, detail)


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

    RESTING = {"idle": GateState.ONLINE, "closed": GateState.ONLINE,
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


@dataclass
class BmisSide:
    link: BmisLink
    commands: CommandSide
    lane_control: RunnerLaneControl
    outbox: RecordingOutbox
    stats_publisher: StatsPublisher
    link_problem: str | None = None     # why the link cannot connect; records are then kept locally
    pki_updater: TrustStoreUpdater | None = None    # pki-update commands; attached to the chip stage

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

    def _report_not_configured(self) -> None:
        log.error("BMIS link not configured (%s): records are kept in the local outbox only", self.link_problem)
        try:
            self.link.raise_alarm(NOT_CONFIGURED, Severity.CRITICAL, detail=self.link_problem[:512])
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


def _never_connect(callbacks, subscriptions, will):
    raise MqttSettingsError("the BMIS link is not configured")


def local_link(config, clock: Callable[[], datetime]) -> BmisLink:
    """The outbox without a broker: every record is stored (the system of record), none is sent."""
    return BmisLink(open_outbox(config, clock=clock), connection_factory=_never_connect,
                    window=config.bmis.max_inflight)


def build_bmis_side(config, clock: Callable[[], datetime], health_source=None) -> BmisSide:
    """Raises GateError subclasses (TrustStoreError, store and outbox errors) to the caller; a link
    that is not configured gives a local-only side (see the module docstring)."""
    lane_control = RunnerLaneControl(clock)
    pki_updater = TrustStoreUpdater(config, clock)
    # no on_alarm: the link itself raises the alarm for a refused signature (result "alarm": true)
    commands = build_command_side(config, lane=lane_control, clock=clock, pki=pki_updater)
    problem = None
    try:
        try:
            link = build_link(config, handle_command=commands.processor.handle, clock=clock,
                              health_source=health_source)
        except MqttSettingsError as exc:
            problem = str(exc)
            link = local_link(config, clock)
    except GateError:
        commands.close()
        raise
    outbox = RecordingOutbox(LaneOutbox(link), commands.stats, clock)
    return BmisSide(link, commands, lane_control, outbox, StatsPublisher(commands.stats, link, clock), problem,
                    pki_updater)
