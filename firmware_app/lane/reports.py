"""What the lane writes down: reports to the BMIS outbox (crossings, exceptions, alarms) and the
transaction journal, and the writes it owes when one of them refuses.

Refused reports and failed journal writes (a full disk, a locked database) are kept in memory in
their order and tried again until they succeed. The traveller in the passage still gets their
crossing record when the disk fills: the record waits (and its journal close behind it), the lane
is out of service meanwhile, and once the writes go through the faults they caused are cleared
and the lane takes travellers again. A restart loses what is owed only as before: the journal row
stays open and is voided at start.
"""
from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from . import events as ev
from .actions import AlarmKind, ExceptionKind
from .errors import LaneError
from .ports import LanePorts
from .record import CrossingRecord
from .state import Fault

log = logging.getLogger(__name__)
MAX_OWED = 1_000    # a lane out of service makes few writes; this bounds memory if one never heals


class OwedWrites:
    def __init__(self, limit: int = MAX_OWED):
        self._limit = limit
        self._writes: collections.deque[tuple[str, Callable[[], object]]] = collections.deque()
        self._faults: set[Fault] = set()
        self._lock = threading.Lock()        # the stall helper thread may add too
        self.dropped = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._writes)

    def add(self, name: str, write: Callable[[], object], fault: Fault) -> None:
        with self._lock:
            if len(self._writes) >= self._limit:
                dropped, _ = self._writes.popleft()
                self.dropped += 1
                log.critical("owed lane write dropped (%d owed): %s", self._limit, dropped)
            self._writes.append((name, write))
            self._faults.add(fault)

    def retry(self) -> frozenset[Fault]:
        """Try the owed writes in order, stopping at the first failure; the faults they caused
        when every one went through (empty otherwise)."""
        while True:
            with self._lock:
                if not self._writes:
                    healed, self._faults = frozenset(self._faults), set()
                    return healed
                name, write = self._writes[0]
            try:
                write()
            except Exception as exc:
                log.warning("owed lane write %s still failing: %s", name, type(exc).__name__)
                return frozenset()
            with self._lock:
                if self._writes and self._writes[0][1] is write:
                    self._writes.popleft()


class Reports:
    """The outbox and journal writes of the lane. A refused write queues a DeviceFault through
    `post` (the lane stops taking travellers) and is owed; `retry()` heals it."""

    def __init__(self, ports: LanePorts, post: Callable[[object], None], clock: Callable[[], datetime]):
        self._ports, self._post, self._clock = ports, post, clock      # outbox and journal: read per write
        self._owed = OwedWrites()
        self._unrecorded: set[str] = set()     # crossings the outbox refused (loop thread only)

    def owing(self) -> bool:
        return len(self._owed) > 0

    def retry(self) -> frozenset[Fault]:
        return self._owed.retry()

    # --- the outbox -------------------------------------------------------------------------
    def alarm(self, kind: AlarmKind, txn_id: str | None, detail: str) -> bool:
        """Tried at once, even while writes are owed: the outbox keeps a reserve for alarms."""
        outbox = self._ports.outbox
        return self._report("alarm", lambda: outbox.alarm(kind, txn_id, detail), ordered=False)

    def exception(self, kind: ExceptionKind, txn_id: str | None, detail: str, owe: bool = True) -> bool:
        outbox = self._ports.outbox
        return self._report("exception", lambda: outbox.exception(kind, txn_id, detail), owe=owe)

    def crossing(self, record: CrossingRecord) -> None:
        outbox = self._ports.outbox
        if not self._report("crossing", lambda: outbox.crossing(record)):
            self._unrecorded.add(record.transaction_id)

    def _report(self, name: str, send: Callable[[], None], owe: bool = True, ordered: bool = True) -> bool:
        """False when the outbox refused: then the report is owed (kept and retried) unless `owe` is off.
        While writes are owed, records queue behind them (a crossing before its journal close)."""
        if owe and ordered and self.owing():
            self._owed.add(name, send, Fault.OUTBOX)
            return False
        try:
            send()
            return True
        except Exception as exc:  # losing a record is not acceptable: stop taking travellers
            log.error("outbox write failed: %s", type(exc).__name__)
            self._post(ev.DeviceFault(Fault.OUTBOX, type(exc).__name__))
            if owe:
                self._owed.add(name, send, Fault.OUTBOX)
            return False

    # --- the journal ------------------------------------------------------------------------
    def begin(self, txn_id: str, started_at: datetime) -> None:
        journal = self._ports.journal
        self._journal("journal begin", lambda: journal.begin(txn_id, started_at))

    def end(self, txn_id: str, outcome: str) -> None:
        journal, ended_at = self._ports.journal, self._clock()
        if txn_id in self._unrecorded:    # closed once its owed crossing is recorded (open if we stop first)
            self._unrecorded.discard(txn_id)
            self._owed.add("journal end", lambda: journal.end(txn_id, ended_at, outcome), Fault.OUTBOX)
            return
        self._journal("journal end", lambda: journal.end(txn_id, ended_at, outcome))

    def _journal(self, name: str, write: Callable[[], None]) -> None:
        if self.owing():     # behind what is owed: a journal close never overtakes its crossing
            self._owed.add(name, write, Fault.OUTBOX)
            return
        try:
            write()
        except LaneError as exc:
            log.error("lane journal write failed: %s", type(exc).__name__)
            self._post(ev.DeviceFault(Fault.JOURNAL, type(exc).__name__))
            self._owed.add(name, write, Fault.JOURNAL)
