"""One ingest worker: deliveries in, durable commit, then PUBACKs and receipts out.

    deliveries (paho thread) -> queue -> committer thread: classify a batch (up to batch_max, or what
    came within flush_s) -> store.commit (one durable transaction) -> PUBACK each delivery -> one
    receipt per device (<= 500 ids)

Nothing is acknowledged before its commit: a worker killed between receive and commit leaves its
messages unacknowledged in its persistent session, and the broker re-delivers them when it comes
back (the gate's receipt timeout covers a session that never comes back). A commit that fails is
retried with backoff; the broker's Receive Maximum bounds what waits meanwhile.
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ..contract import Clock, utc_now
from ..mqtt_client import Callbacks, MqttSettings
from .acking import AckingConnection, Delivery
from .classify import classify, topic_filters
from .errors import StoreUnavailable
from .receipt_out import receipts_by_device
from .records import Batch, Rejection, StoredMessage
from .store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOptions:
    prefix: str = "gates"
    group: str = "bmis-ingest"
    batch_max: int = 500
    flush_s: float = 0.05
    receive_maximum: int = 1000
    retry_max_s: float = 10.0


@dataclass
class IngestCounters:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    receipts: int = 0
    commit_failures: int = 0


class IngestWorker:
    def __init__(self, store: Store, settings: MqttSettings, options: IngestOptions = IngestOptions(), *,
                 clock: Clock = utc_now, id_source: Callable[[], uuid.UUID] = uuid.uuid4,
                 before_commit: Callable[[Batch], None] = lambda batch: None):
        self.store, self.options, self.counters = store, options, IngestCounters()
        self._clock, self._id_source, self._before_commit = clock, id_source, before_commit
        self._deliveries: queue.Queue[Delivery] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection = AckingConnection(settings, Callbacks(on_ack=lambda mid, code, name: None),
                                            on_delivery=self._deliveries.put,
                                            subscriptions=topic_filters(options.prefix, options.group),
                                            receive_maximum=options.receive_maximum)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bmis-ingest-commit", daemon=True)
        self._thread.start()
        self._connection.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Commit and acknowledge what already arrived, then disconnect."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._connection.stop()

    @property
    def connected(self) -> bool:
        return self._connection.connected

    # -- the committer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._commit_until_done(batch)
            elif self._stop.is_set():
                return

    def _take_batch(self) -> list[Delivery]:
        try:
            first = self._deliveries.get(timeout=0.2)
        except queue.Empty:
            return []
        batch, deadline = [first], time.monotonic() + self.options.flush_s
        while len(batch) < self.options.batch_max:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._deliveries.get(timeout=remaining) if remaining > 0
                             else self._deliveries.get_nowait())
            except queue.Empty:
                break
        return batch

    def _commit_until_done(self, deliveries: list[Delivery]) -> None:
        now = self._clock()
        items = [classify(self.options.prefix, d.incoming.topic, d.incoming.payload, now.timestamp())
                 for d in deliveries]
        batch = Batch([i for i in items if isinstance(i, StoredMessage)],
                      [i for i in items if isinstance(i, Rejection)])
        delay = 0.1
        while True:
            try:
                self._before_commit(batch)
                result = self.store.commit(batch)
                break
            except StoreUnavailable as exc:
                self.counters.commit_failures += 1
                log.error("ingest commit failed, retrying in %.1f s: %s", delay, exc)
                if self._stop.wait(delay):
                    return       # stopping: left unacknowledged, the broker re-delivers it later
                delay = min(2 * delay, self.options.retry_max_s)
        self._after_commit(deliveries, batch, result.duplicates, now)

    def _after_commit(self, deliveries: list[Delivery], batch: Batch, duplicates: int, now: dt.datetime) -> None:
        for delivery in deliveries:
            self._connection.ack(delivery)
        c = self.counters
        c.received += len(deliveries)
        c.stored += len(batch.accepted) - duplicates
        c.duplicates += duplicates
        c.rejected += len(batch.rejected)
        for reject in batch.rejected:
            log.warning("ingest refused a message on %s: %s", reject.topic, reject.reason.value)
        self._send_receipts(batch.accepted, now)

    def _send_receipts(self, accepted: list[StoredMessage], now: dt.datetime) -> None:
        pairs = ((m.device_id, m.msg_id) for m in accepted)
        for topic, payload in receipts_by_device(pairs, self.options.prefix, now=now, id_source=self._id_source):
            if self._connection.publish(topic, payload) is not None:
                self.counters.receipts += 1
