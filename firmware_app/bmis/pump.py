"""Moves messages from the outbox to the broker, and PUBACKs back into the outbox.

One pump thread publishes up to `window` messages at a time (status and alarms first, as the outbox
orders them) and commits acknowledgements in batches: one synchronous=FULL transaction for every ack
that arrived meanwhile, so the drain rate is not one fsync per message. A crash before the batch is
committed only means those messages are sent again (consumers de-duplicate on msg_id).

PUBACK reason codes decide: success -> sent; >= 0x80 (e.g. 0x87 not authorised by the ACL; or 0x95 found here
before publishing, when the message exceeds the broker's Maximum Packet Size) ->
dead letter and `on_refused`; 0x10 (no matching subscribers) on a non-retained message -> kept, and
non-retained publishing pauses (doubling from retry_delay_s up to max_retry_delay_s) because nobody
at the BMIS is listening; status and health (retained) still go out meanwhile.

Receipts from the BMIS (handed over by the link from the network thread) are committed here too,
in one transaction per step. A message the broker does not acknowledge within `ack_timeout_s`
while the connection stays up is not waited for in silence: `on_ack_timeout` (the link raises an
alarm) and the connection is dropped and re-made (paho re-sends unacknowledged QoS 1 messages).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .mqtt_client import (
    REASON_FAILURE_FROM,
    REASON_NO_MATCHING_SUBSCRIBERS,
    REASON_PACKET_TOO_LARGE,
    Publisher,
    publish_packet_size,
)
from .outbox.queue import Outbox, PendingMessage

log = logging.getLogger(__name__)
MAX_EARLY_ACKS = 1024
MAX_QUEUED_RECEIPTS = 50_000    # msg_ids waiting for the pump; beyond, dropped (they are re-sent, not lost)


class OutboxPump:
    def __init__(self, outbox: Outbox, *, window: int = 32, retry_no_subscribers: bool = True,
                 retry_delay_s: float = 1.0, max_retry_delay_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_refused: Callable[[PendingMessage, int, str], None] = lambda message, code, name: None,
                 on_committed: Callable[[list[str]], None] = lambda msg_ids: None,
                 ack_timeout_s: float = 60.0, on_ack_timeout: Callable[[int], None] = lambda overdue: None):
        self.outbox, self.window = outbox, window
        self._retry_no_subscribers, self._retry_delay_s = retry_no_subscribers, retry_delay_s
        self._max_retry_delay_s, self._pause_s, self._paused_until = max_retry_delay_s, retry_delay_s, 0.0
        self._monotonic, self._on_refused, self._on_committed = monotonic, on_refused, on_committed
        self._wake = threading.Condition()
        self._inflight: dict[int, PendingMessage] = {}
        self._early_acks: dict[int, tuple[int, str]] = {}
        self._acked: list[str] = []
        self._refused: list[tuple[PendingMessage, int, str]] = []
        self._publisher: Publisher | None = None
        self.retries_no_subscribers = 0
        self._ack_timeout_s, self._on_ack_timeout = ack_timeout_s, on_ack_timeout
        self._sent_at: dict[int, float] = {}     # mid -> monotonic time of publish (or of the last timeout)
        self._was_connected = False
        self._receipts: list[str] = []
        self.receipted = 0
        self.ack_timeouts = 0

    def attach(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def notify(self) -> None:
        with self._wake:
            self._wake.notify()

    @property
    def in_flight(self) -> int:
        with self._wake:
            return len(self._inflight)

    # -- acknowledgements (network thread) -------------------------------------------------------
    def on_receipt(self, msg_ids: list[str]) -> None:
        """The BMIS stored these (a validated receipt); committed on the pump thread."""
        with self._wake:
            if len(self._receipts) + len(msg_ids) > MAX_QUEUED_RECEIPTS:
                log.warning("BMIS receipts arrive faster than they are stored: %d dropped", len(msg_ids))
                return
            self._receipts.extend(msg_ids)
            self._wake.notify()

    def on_ack(self, mid: int, code: int, name: str) -> None:
        with self._wake:
            self._sent_at.pop(mid, None)
            message = self._inflight.pop(mid, None)
            if message is None:
                self._remember_early(mid, code, name)
                return
            self._classify(message, code, name)
            self._wake.notify()

    def _remember_early(self, mid: int, code: int, name: str) -> None:
        """An ack can overtake the registration of its mid (publish and ack race on two threads)."""
        if len(self._early_acks) >= MAX_EARLY_ACKS:
            self._early_acks.clear()
        self._early_acks[mid] = (code, name)

    def _classify(self, message: PendingMessage, code: int, name: str) -> None:
        if code >= REASON_FAILURE_FROM:
            self._refused.append((message, code, name))
        elif code == REASON_NO_MATCHING_SUBSCRIBERS and self._retry_no_subscribers and not message.retain:
            self.retries_no_subscribers += 1
            self._pause_non_retained()
        else:
            self._acked.append(message.msg_id)
            if not message.retain:
                self._pause_s = self._retry_delay_s

    def _pause_non_retained(self) -> None:
        """Called for each 0x10; a burst of them (the whole window) counts once."""
        now = self._monotonic()
        if now >= self._paused_until:
            self._paused_until = now + self._pause_s
            self._pause_s = min(2 * self._pause_s, self._max_retry_delay_s)

    # -- the pump (its own thread) ---------------------------------------------------------------
    def step(self) -> int:
        """Commit what was acknowledged, dead-letter what was refused, publish more; count published."""
        self._commit_acks()
        self._commit_refusals()
        self._commit_receipts()
        publisher = self._publisher
        if publisher is None or not publisher.connected:
            self._was_connected = False
            return 0
        self._check_ack_timeout(publisher)
        return sum(self._publish(publisher, message) for message in self._next_messages(self._window_for(publisher)))

    def _window_for(self, publisher: Publisher) -> int:
        """Our window, narrowed to the broker's MQTT 5 Receive Maximum when it announced a smaller one."""
        receive_maximum = publisher.receive_maximum
        return min(self.window, receive_maximum) if receive_maximum else self.window

    def _commit_acks(self) -> None:
        with self._wake:
            acked, self._acked = self._acked, []
        if acked:
            try:
                self.outbox.mark_sent(acked)
            except Exception:
                self._put_back(acked, [])
                raise
            self._on_committed(acked)

    def _commit_receipts(self) -> None:
        with self._wake:
            receipts, self._receipts = self._receipts, []
        if receipts:
            try:
                self.receipted += self.outbox.receipted(receipts)
            except Exception:
                with self._wake:
                    self._receipts[:0] = receipts
                raise

    def _check_ack_timeout(self, publisher: Publisher) -> None:
        """Messages unacknowledged for ack_timeout_s on a live connection: alarm and reconnect."""
        now = self._monotonic()
        with self._wake:
            if not self._was_connected:     # the clock of each message starts again on a connection
                self._was_connected = True
                self._sent_at = dict.fromkeys(self._sent_at, now)
            overdue = [mid for mid, at in self._sent_at.items() if now - at > self._ack_timeout_s]
            self._sent_at.update(dict.fromkeys(overdue, now))
        if not overdue:
            return
        self.ack_timeouts += 1
        log.error("broker acknowledged none of %d message(s) for %.0f s: reconnecting", len(overdue),
                  self._ack_timeout_s)
        self._on_ack_timeout(len(overdue))
        publisher.reconnect()

    def _commit_refusals(self) -> None:
        with self._wake:
            refused, self._refused = self._refused, []
        for done, (message, code, name) in enumerate(refused):
            log.error("broker refused %s seq %d: %s (0x%02x)", message.kind.suffix, message.seq, name, code)
            try:
                moved = self.outbox.dead_letter(message.msg_id, code, name)
            except Exception:
                self._put_back([], refused[done:])
                raise
            if moved is not None:
                self._on_refused(message, code, name)

    def _put_back(self, acked: list[str], refused: list[tuple[PendingMessage, int, str]]) -> None:
        """Outcomes not committed yet stay busy (never republished) and are committed on a later step."""
        with self._wake:
            self._acked[:0] = acked
            self._refused[:0] = refused

    def _next_messages(self, window: int) -> list[PendingMessage]:
        with self._wake:
            room = window - len(self._inflight)
            busy = {m.msg_id for m in self._inflight.values()} | set(self._acked)
            busy |= {m.msg_id for m, _, _ in self._refused}
            paused = self._monotonic() < self._paused_until
        batch = self.outbox.next_batch(room, skip=busy) if room > 0 else []
        return [m for m in batch if m.retain] if paused else batch

    def _publish(self, publisher: Publisher, message: PendingMessage) -> int:
        if self._too_large(publisher, message):
            with self._wake:
                self._refused.append((message, REASON_PACKET_TOO_LARGE, "Packet too large for the broker"))
            return 0
        # Never call paho while holding our lock: paho calls on_ack holding its own lock.
        # A broker without retain disconnects on a retained publish (0x9A): send it plain instead.
        retain = message.retain and publisher.retain_available
        mid = publisher.publish(message.topic, message.payload, retain=retain, correlation=message.correlation)
        if mid is None:
            return 0
        with self._wake:
            early = self._early_acks.pop(mid, None)
            if early is None:
                self._inflight[mid] = message
                self._sent_at[mid] = self._monotonic()
            else:
                self._classify(message, *early)
        return 1

    @staticmethod
    def _too_large(publisher: Publisher, message: PendingMessage) -> bool:
        """Over the broker's MQTT 5 Maximum Packet Size: it would disconnect us (0x95) on every resend."""
        limit = publisher.maximum_packet_size
        if not limit:
            return False
        return publish_packet_size(message.topic, message.payload, message.correlation) > limit

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Loop until `stop` is set; wakes on acks, new messages and connections."""
        while not stop.is_set():
            try:
                published = self.step()
            except Exception as exc:
                log.error("BMIS pump step failed, retrying: %s", type(exc).__name__)
                log.debug("BMIS pump step failure", exc_info=True)
                stop.wait(max(self._retry_delay_s, 0.05))
                continue
            with self._wake:
                if not published and not self._acked and not self._refused and not self._receipts:
                    self._wake.wait(self._idle_wait(idle_s))
        self._commit_acks()
        self._commit_refusals()
        self._commit_receipts()

    def _idle_wait(self, idle_s: float) -> float:
        remaining = self._paused_until - self._monotonic()
        return max(0.01, min(idle_s, remaining)) if remaining > 0 else idle_s
