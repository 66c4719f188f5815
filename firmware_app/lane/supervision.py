"""Supervise, don't hope: the runner's watchdog for its own loop and its stage workers.

A stage worker still running `stage_grace_s` after its own timeout is hung: its device is faulted
(the lane goes out of service with the doors secured) and restored when the worker finally returns.
An event that keeps the lane loop busy longer than `stall_s` means the loop is stuck: the doors are
put in the safe stance from the watchdog's side (the loop cannot do it), the lane reports unhealthy
(the app stops feeding systemd's watchdog, which restarts it) and a LANE_LOOP fault is queued for
when the loop moves again. Bookkeeping here is plain and clock-injected; the runner owns the thread.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from drivers.errors import DriverError
from drivers.gate.layout import Door, LayoutKind, doors_of

from . import events as ev
from .state import Fault, LaneTimeouts

log = logging.getLogger(__name__)

STAGE_FAULT = {ev.Stage.CHIP: Fault.CHIP_READER, ev.Stage.FACE: Fault.CAMERA, ev.Stage.DECISION: Fault.DECIDER}


@dataclass(frozen=True)
class Supervision:
    stall_s: float = 5.0        # one event handled longer than this: the loop is stuck
    stage_grace_s: float = 10.0  # a worker still running this long after its stage timeout is hung
    gate_probe_s: float = 2.0   # a faulted gate driver is tried again this often
    tick_s: float = 0.25        # how often the watchdog looks
    write_retry_s: float = 1.0  # owed outbox/journal writes (a full disk) are tried again this often


def stage_budget(stage: ev.Stage, timeouts: LaneTimeouts) -> float:
    return {ev.Stage.CHIP: timeouts.chip_s, ev.Stage.FACE: timeouts.face_s,
            ev.Stage.DECISION: timeouts.decision_s}[stage]


@dataclass
class _Ticket:
    stage: ev.Stage
    started: float
    budget_s: float
    hung: bool = False


class Watchdog:
    """Thread-safe bookkeeping: running workers, the loop's busy time. `check()` says what is new."""

    def __init__(self, supervision: Supervision, monotonic: Callable[[], float]):
        self.supervision, self.monotonic = supervision, monotonic
        self._lock = threading.Lock()
        self._tickets: dict[int, _Ticket] = {}
        self._next = 0
        self._busy_since: float | None = None
        self.stalled = False

    # --- stage workers ----------------------------------------------------------------------
    def worker_started(self, stage: ev.Stage, budget_s: float) -> int:
        with self._lock:
            self._next += 1
            self._tickets[self._next] = _Ticket(stage, self.monotonic(), budget_s)
            return self._next

    def worker_finished(self, ticket_id: int) -> list:
        """Events to queue: DeviceRestored once the last hung worker of a device has returned."""
        with self._lock:
            ticket = self._tickets.pop(ticket_id, None)
            if ticket is None or not ticket.hung:
                return []
            fault = STAGE_FAULT[ticket.stage]
            still_hung = any(t.hung and STAGE_FAULT[t.stage] is fault for t in self._tickets.values())
        log.warning("%s stage worker returned after being declared hung", ticket.stage.value)
        return [] if still_hung else [ev.DeviceRestored(fault)]

    def _newly_hung(self, now: float) -> list:
        found = []
        for ticket in self._tickets.values():
            if not ticket.hung and now - ticket.started > ticket.budget_s + self.supervision.stage_grace_s:
                ticket.hung = True
                found.append(ev.DeviceFault(STAGE_FAULT[ticket.stage], f"{ticket.stage.value} stage worker hung"))
        return found

    # --- the loop ---------------------------------------------------------------------------
    def loop_busy(self) -> None:
        with self._lock:
            self._busy_since = self.monotonic()

    def loop_idle(self) -> None:
        with self._lock:
            self._busy_since = None

    def check(self) -> tuple[list, bool, bool]:
        """(events to queue, the loop just stalled, the loop just recovered)."""
        with self._lock:
            now = self.monotonic()
            events = self._newly_hung(now)
            stuck = self._busy_since is not None and now - self._busy_since > self.supervision.stall_s
            just_stalled, recovered = stuck and not self.stalled, self.stalled and not stuck
            self.stalled = stuck
        return events, just_stalled, recovered


def safe_stance(gate, layout: LayoutKind) -> frozenset[Door]:
    """Doors as the safety rules want them without the lane's help: released in an emergency;
    otherwise the exit locked, and the entry released if somebody may be inside a mantrap.
    Unreadable sensors count as "may be inside": an open entry lets nobody past the locked exit.
    Returns the doors left released (the app's shutdown keeps them so and alarms)."""
    try:
        snapshot = gate.snapshot()
    except DriverError as exc:
        log.error("watchdog cannot read the gate: %s", type(exc).__name__)
        snapshot = None
    try:
        if snapshot is not None and snapshot.emergency:
            gate.release_all()
            return frozenset(doors_of(layout))
        if layout is LayoutKind.MANTRAP and (snapshot is None or snapshot.presence > 0):
            gate.close_door(Door.EXIT)
            gate.open_door(Door.ENTRY)
            return frozenset({Door.ENTRY})
        gate.secure_all()
    except DriverError as exc:
        log.error("watchdog could not command the gate (%s); doors rest in their fail mode",
                  type(exc).__name__)
    return frozenset()


def probe_gate(gate, data):
    """Command the doors as the lane wants them now; the snapshot if the driver answered, else None."""
    try:
        if data.emergency:
            gate.release_all()
        elif data.retreat:
            gate.close_door(Door.EXIT)
            gate.open_door(Door.ENTRY)
        else:
            gate.secure_all()
        return gate.snapshot()
    except DriverError:
        return None


def resync_events(data, snapshot) -> list:
    """Inputs may have changed while the gate driver was down: the events that catch the lane up."""
    events: list[object] = [ev.DoorOpened(d) for d in sorted(snapshot.doors_open - data.sensed_open)]
    events += [ev.DoorClosed(d) for d in sorted(data.sensed_open - snapshot.doors_open)]
    if snapshot.presence != data.presence:
        events.append(ev.PresenceChanged(snapshot.presence))
    if snapshot.emergency != data.emergency:
        events.append(ev.EmergencyOn() if snapshot.emergency else ev.EmergencyOff())
    if snapshot.tamper != (Fault.TAMPER in data.faults):
        events.append(ev.TamperOn() if snapshot.tamper else ev.TamperOff())
    return events
