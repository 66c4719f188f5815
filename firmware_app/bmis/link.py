"""The gate's link to the BMIS: what the lane calls, wired to the outbox, the pump and MQTT.

    link = BmisLink(outbox, connection_factory=..., handle_command=processor.handle)
    link.start()
    link.record_crossing(record.to_dict())     # OutboxFull -> the lane goes out of service
    link.raise_alarm("door_forced", Severity.CRITICAL)

Every add is durable before it returns. Status is retained and republished on every connection
(the Last Will sets it to "offline" when the gate vanishes). Commands arrive on cmd/#, are handed to
`handle_command` on a worker thread, and answered on cmd-result with the request's correlation data.
Receipts from the BMIS arrive on the gate's own `receipt` topic: validated here, committed by the
pump. A refused subscription (commands or receipts) or a broker that stops acknowledging is an
alarm, and health reports the link `degraded` while it lasts. The commands' queue, worker loop and
answers are link_commands.py's `CommandDesk` (`link.commands`).
"""
from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .contract import Envelope, Identity, MessageKind, command_filter, parse_receipt, receipt_topic
from .errors import BmisLinkError, ContractViolation, OutboxFull
from .health import HEALTH_INFO_FIELDS, ComponentStatus, component_entry, health_components
from .link_commands import CommandDesk, CommandHandler, nack_not_implemented
from .mqtt_types import REASON_IMPLEMENTATION_SPECIFIC, BrokerConnection, Callbacks, Incoming, Will
from .outbox.queue import Outbox, PendingMessage
from .pump import OutboxPump

log = logging.getLogger(__name__)
HealthSource = Callable[[], Mapping[str, Mapping[str, str]]]   # component -> {"status": ..., "detail": ...}


STATS_NAMESPACE = uuid.UUID("6f1c2a3e-8d4b-5e7f-9a1b-2c3d4e5f6a7b")   # fixed: ids must be stable


def stats_msg_id(identity: Identity, period_start: str) -> uuid.UUID:
    """The msg_id of a period's stats message: the same on every (re)send, for consumers' de-duplication."""
    return uuid.uuid5(STATS_NAMESPACE, f"{identity.prefix}/{identity.device_id}/stats/{period_start}")


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class GateState(str, enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    OUT_OF_SERVICE = "out_of_service"


ConnectionFactory = Callable[[Callbacks, tuple[str, ...], Will], BrokerConnection]


class BmisLink:
    def __init__(self, outbox: Outbox, *, connection_factory: ConnectionFactory,
                 handle_command: CommandHandler = nack_not_implemented, window: int = 32,
                 retry_no_subscribers: bool = True, retry_delay_s: float = 1.0,
                 on_sent: Callable[[list[str]], None] = lambda msg_ids: None,
                 health_source: HealthSource | None = None, health_interval_s: float = 60.0,
                 ack_timeout_s: float = 60.0, health_info: Callable[[], Mapping[str, Any]] | None = None):
        self.outbox, self.identity = outbox, outbox.identity
        self._factory = connection_factory
        self.commands = CommandDesk(self.identity, handle_command, self._store_answer,
                                    lambda detail: self._alarm_quietly("command_refused", Severity.CRITICAL, detail))
        self._on_sent = on_sent
        self.pump = OutboxPump(outbox, window=window, retry_no_subscribers=retry_no_subscribers,
                               retry_delay_s=retry_delay_s, on_refused=self._message_refused,
                               on_committed=self._acks_committed, ack_timeout_s=ack_timeout_s,
                               on_ack_timeout=self._ack_timeout)
        self._receipt_topic = receipt_topic(self.identity.prefix, self.identity.device_id)
        self._link_problems: dict[str, str] = {}    # problem code -> detail, while it lasts
        self._ack_alarm_active = False
        self.invalid_receipts = 0
        self._status: dict[str, Any] = {"state": GateState.ONLINE.value}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connection: BrokerConnection | None = None
        self._will: Envelope | None = None
        self._full_alarm_active = False
        self._status_owed = False
        self._health_source, self._health_interval_s = health_source, health_interval_s
        self._health_info = health_info         # versions, certificate, last update (health 1.2)
        self._started_at = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        will = self.outbox.stamp(MessageKind.STATUS, {"state": GateState.OFFLINE.value, "reason": "connection_lost"})
        self._will = will
        callbacks = Callbacks(on_ack=self.pump.on_ack, on_message=self._on_message,
                              on_connected=self._on_connected, on_disconnected=self._on_disconnected,
                              on_dropped=self._on_dropped,
                              on_subscribe_refused=self._subscription_refused, on_subscribed=self._subscribed)
        subscriptions = (command_filter(self.identity.prefix, self.identity.device_id), self._receipt_topic)
        self._connection = self._factory(callbacks, subscriptions, Will(will.topic, will.payload, retain=True))
        self.pump.attach(self._connection)
        self._threads = [threading.Thread(target=self.pump.run, args=(self._stop,), name="bmis-pump", daemon=True),
                         threading.Thread(target=self.commands.work, name="bmis-commands", daemon=True)]
        if self._health_source is not None:
            self._threads.append(threading.Thread(target=self._health_loop, name="bmis-health", daemon=True))
        for thread in self._threads:
            thread.start()
        self._connection.start()

    def stop(self, drain_timeout_s: float = 2.0) -> None:
        """Orderly stop: publish the Last Will ourselves (its seq is then never missing at the BMIS),
        give the backlog a moment, then disconnect."""
        if self._connection is None:
            return
        assert self._will is not None           # set with the connection in start()
        try:
            self.outbox.add_stamped(self._will)
        except BmisLinkError as exc:
            log.error("cannot queue the offline status: %s", exc)
        self.wait_drained(drain_timeout_s)
        self._stop.set()
        self.pump.notify()
        self.commands.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._connection.stop()
        self._connection = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.connected

    @property
    def listening(self) -> bool:
        """Connected and every subscription answered (commands and receipts reach the gate)."""
        return self.connected and self._connection is not None and self._connection.subscriptions_answered

    def reload_identity(self) -> bool:
        """Reconnect with a renewed client certificate if its files changed; True when it did."""
        return self._connection is not None and self._connection.reload_identity()

    @property
    def identity_reloads(self) -> int:
        """Renewed client certificates the connection loaded (at a reconnection) since start."""
        return self._connection.identity_reloads if self._connection is not None else 0

    def wait_drained(self, timeout_s: float, poll_s: float = 0.02) -> bool:
        """True once nothing is pending (tests, orderly shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.outbox.counts().pending == 0:
                return True
            time.sleep(poll_s)
        return self.outbox.counts().pending == 0

    # -- what the lane calls ---------------------------------------------------------------------
    def record_crossing(self, record: Mapping[str, Any]) -> Envelope:
        return self._add(MessageKind.CROSSING, dict(record))

    def record_exception(self, data: Mapping[str, Any]) -> Envelope:
        return self._add(MessageKind.EXCEPTION, dict(data))

    def publish_stats(self, data: Mapping[str, Any]) -> Envelope:
        """Keyed by (device, period_start): a report re-sent after a crash is the same message."""
        return self._add(MessageKind.STATS, dict(data), msg_id=stats_msg_id(self.identity, str(data["period_start"])))

    def raise_alarm(self, kind: str, severity: Severity, *, active: bool = True, detail: str = "",
                    msg_id: uuid.UUID | None = None, **extra: Any) -> Envelope:
        """`msg_id` given: an alarm already on record under it is not stored again (an alarm handed
        over from a file, e.g. the updater's, survives a crash between store and delete once)."""
        data = {"kind": kind, "severity": Severity(severity).value, "active": active, **extra}
        if detail:
            data["detail"] = detail
        return self._add(MessageKind.ALARM, data, **({"msg_id": msg_id} if msg_id else {}))

    def set_status(self, state: GateState, **fields: Any) -> Envelope:
        """Retained status; remembered and republished on every (re)connection."""
        self._status = {"state": GateState(state).value, **{k: v for k, v in fields.items() if v is not None}}
        try:
            stored = self._add(MessageKind.STATUS, dict(self._status))
        except BmisLinkError:
            self._status_owed = True        # stored with the next message that gets through
            raise
        self._status_owed = False
        return stored

    def publish_health(self, components: Mapping[str, Mapping[str, str]], uptime_s: float | None = None,
                       info: Mapping[str, Any] | None = None) -> Envelope:
        """Retained health; component names, statuses and details are made to fit health.json
        whatever the source gives (a fault must still reach the BMIS). `info`: the 1.2 fields
        (versions, certificate, last update); when they do not fit, health goes without them."""
        counts = self.outbox.counts()
        data: dict[str, Any] = {"components": health_components(components, self._link_component()),
                                "outbox": {"pending": counts.pending, "dead_letters": counts.dead_letters,
                                           "oldest_pending_age_s": round(counts.oldest_pending_age_s, 3),
                                           "unreceipted": counts.unreceipted,
                                           "oldest_unreceipted_age_s": round(counts.oldest_unreceipted_age_s, 3)}}
        if uptime_s is not None:
            data["uptime_s"] = uptime_s
        extra = {k: v for k, v in (info or {}).items() if k in HEALTH_INFO_FIELDS}
        try:
            return self._add(MessageKind.HEALTH, {**data, **extra})
        except ContractViolation:
            if not extra:
                raise
            log.error("health info does not fit health.json; health sent without it")
            return self._add(MessageKind.HEALTH, data)

    def _add(self, kind: MessageKind, data: dict[str, Any], **options: Any) -> Envelope:
        try:
            stored = self.outbox.add(kind, data, **options)
        except OutboxFull as full:
            self._outbox_full_alarm(full)
            raise
        self.pump.notify()
        if self._status_owed and kind is not MessageKind.STATUS:
            self._store_owed_status()
        if self._full_alarm_active and kind.priority >= MessageKind.CROSSING.priority:
            self._full_alarm_active = False
            self.raise_alarm("outbox_full", Severity.INFO, active=False, detail="room again")
        return stored

    def _store_owed_status(self) -> None:
        try:
            self.outbox.add(MessageKind.STATUS, dict(self._status))
            self._status_owed = False
        except BmisLinkError as exc:
            log.error("status still not stored: %s", type(exc).__name__)

    def _outbox_full_alarm(self, full: OutboxFull) -> None:
        if self._full_alarm_active:
            return
        self._full_alarm_active = True
        log.error("BMIS outbox full (%s): lane must go out of service", full.reason)
        try:
            self.raise_alarm("outbox_full", Severity.CRITICAL, detail=f"{full.reason}; pending {full.pending}")
        except OutboxFull:
            log.critical("BMIS outbox full even for alarms")

    # -- callbacks -------------------------------------------------------------------------------
    def _on_connected(self, session_present: bool) -> None:
        log.info("BMIS broker connected (session present: %s)", session_present)
        try:
            self._add(MessageKind.STATUS, dict(self._status))
        except BmisLinkError as exc:
            log.error("cannot queue status on connect: %s", exc)
        self._publish_health_now()
        self.pump.notify()

    def _health_loop(self) -> None:
        """Retained health every interval while connected (not queued during an outage: only the
        latest matters, and one goes out on every connection)."""
        while not self._stop.wait(self._health_interval_s):
            if self.connected:
                self._publish_health_now()

    def _publish_health_now(self) -> None:
        if self._health_source is None:
            return
        try:
            info = self._health_info() if self._health_info is not None else None
            self.publish_health(self._health_source(), uptime_s=round(time.monotonic() - self._started_at, 3),
                                info=info)
        except Exception:
            log.exception("cannot publish health")

    def _link_component(self) -> dict[str, str] | None:
        if not self._link_problems:
            return None
        detail = "; ".join(f"{code}: {text}" for code, text in sorted(self._link_problems.items()))
        return component_entry(ComponentStatus.DEGRADED, next(iter(sorted(self._link_problems))), detail)

    @property
    def link_problems(self) -> dict[str, str]:
        return dict(self._link_problems)

    def _subscription_refused(self, topic_filter: str, reason: str) -> None:
        """Without cmd/# the BMIS cannot command the gate, without receipt records pile up: say so."""
        what = "commands" if topic_filter.endswith("/cmd/#") else "receipts"
        code = f"subscription_refused_{what}"
        first = code not in self._link_problems
        self._link_problems[code] = f"{topic_filter}: {reason}"[:200]
        if first:
            self._alarm_quietly("subscription_refused", Severity.CRITICAL, f"{topic_filter}: {reason}"[:512])
            self._publish_health_now()

    def _subscribed(self, topic_filter: str) -> None:
        """Granted (again, e.g. after the ACL was fixed): the link is no longer degraded for it."""
        what = "commands" if topic_filter.endswith("/cmd/#") else "receipts"
        if self._link_problems.pop(f"subscription_refused_{what}", None) is not None:
            self._alarm_quietly("subscription_refused", Severity.INFO, f"{topic_filter}: granted", active=False)
            self._publish_health_now()

    def _ack_timeout(self, overdue: int) -> None:
        self._link_problems["puback_timeout"] = f"{overdue} message(s) unacknowledged; reconnecting"
        if not self._ack_alarm_active:
            self._ack_alarm_active = True
            self._alarm_quietly("puback_timeout", Severity.CRITICAL,
                                f"broker acknowledged none of {overdue} message(s) in time; reconnecting")

    def _acks_committed(self, msg_ids: list[str]) -> None:
        if self._ack_alarm_active:
            self._ack_alarm_active = False
            self._link_problems.pop("puback_timeout", None)
            self._alarm_quietly("puback_timeout", Severity.INFO, "acknowledgements flow again", active=False)
        self._on_sent(msg_ids)

    def _alarm_quietly(self, kind: str, severity: Severity, detail: str, active: bool = True) -> None:
        try:
            self.raise_alarm(kind, severity, active=active, detail=detail)
        except BmisLinkError as exc:
            log.critical("cannot queue the %s alarm: %s", kind, exc)

    def _on_disconnected(self, reason: str) -> None:
        level = logging.INFO if self._stop.is_set() else logging.WARNING
        log.log(level, "BMIS broker disconnected: %s", reason)

    def _message_refused(self, message: PendingMessage, code: int, name: str) -> None:
        if message.kind is MessageKind.ALARM:
            log.critical("broker refused an alarm (0x%02x %s): check the broker ACL", code, name)
            return
        try:
            self.raise_alarm("message_refused", Severity.CRITICAL, detail=f"{message.kind.suffix}: {name}"[:512],
                             ref_msg_id=message.msg_id, reason_code=code)
        except BmisLinkError as exc:
            log.critical("cannot queue the refusal alarm: %s", exc)

    def _on_dropped(self, topic: str, reason: str) -> None:
        """A message acknowledged without being handled (it would have held the network thread):
        dead-lettered once, with an alarm; the broker never redelivers it (it was acknowledged)."""
        try:
            self.outbox.dead_letter_incoming(topic, REASON_IMPLEMENTATION_SPECIFIC, reason)
            self.raise_alarm("command_dropped", Severity.CRITICAL, detail=f"{topic}: {reason}"[:512])
        except BmisLinkError as exc:
            log.critical("cannot queue the dropped-command alarm: %s", exc)

    # -- commands and receipts -------------------------------------------------------------------
    def _on_message(self, incoming: Incoming) -> None:
        if incoming.topic == self._receipt_topic:
            self._on_receipt(incoming)
        else:
            self.commands.offer(incoming)

    def _on_receipt(self, incoming: Incoming) -> None:
        try:
            msg_ids = parse_receipt(incoming.payload)
        except ContractViolation as exc:
            self.invalid_receipts += 1
            log.warning("invalid BMIS receipt ignored: %s", str(exc)[:200])
            return
        self.pump.on_receipt(msg_ids)

    def _store_answer(self, data: dict, correlation: bytes | None, topic: str) -> None:
        self._add(MessageKind.CMD_RESULT, data, correlation=correlation, topic=topic)
