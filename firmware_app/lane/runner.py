"""The thin runtime around the pure lane: one thread owns the state and executes the actions.

Everything reaches that thread as an event on one queue: gate inputs (gpiozero threads), reader
events, stage results (worker threads), timer expiries, operator commands. Stage workers run the
blocking chip read, face capture and policy; a late answer is dropped by the machine because it
names its transaction. Any port failure becomes an event (DeviceFault / StageFailed): the lane
secures the doors and refers; the runner itself never stops on a device error.

Start order (safety rule): doors secured first, then unfinished transactions voided and reported,
then the sensors read and the lane started from them.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from drivers.errors import DriverError
from drivers.gate.events import GateEvent, GateEventKind, GateSnapshot
from firmware_app.policy import LaneMode

from . import actions as act
from . import events as ev
from .errors import LaneError, LaneNotRunning
from .journal import LaneJournal
from .machine import initial, step
from .ports import (BiometricStore, Cancellable, ChipStage, Decider, FaceStage, GatePort, KioskPort, OfficerPort, OutboxPort,
                    Scheduler, thread_timer)
from .state import Fault, LaneData, LaneSettings, TimerKind

log = logging.getLogger(__name__)
_STOP = object()


@dataclass
class LanePorts:
    gate: GatePort
    chip: ChipStage
    face: FaceStage
    decider: Decider
    kiosk: KioskPort
    outbox: OutboxPort
    journal: LaneJournal
    officer: OfficerPort | None = None
    biometrics: BiometricStore | None = None     # e.g. stages.PortraitVault; emptied per transaction


_GATE_EVENTS = {
    GateEventKind.EMERGENCY_ON: lambda e: ev.EmergencyOn(), GateEventKind.EMERGENCY_OFF: lambda e: ev.EmergencyOff(),
    GateEventKind.TAMPER_ON: lambda e: ev.TamperOn(), GateEventKind.TAMPER_OFF: lambda e: ev.TamperOff(),
    GateEventKind.DOOR_OPENED: lambda e: ev.DoorOpened(e.door),
    GateEventKind.DOOR_CLOSED: lambda e: ev.DoorClosed(e.door),
    GateEventKind.PRESENCE: lambda e: ev.PresenceChanged(e.count or 0),
}


def lane_event(gate_event: GateEvent):
    return _GATE_EVENTS[gate_event.kind](gate_event)


class LaneRunner:
    def __init__(self, settings: LaneSettings, ports: LanePorts, clock: Callable[[], datetime],
                 mode: LaneMode = LaneMode.NORMAL, scheduler: Scheduler = thread_timer):
        self.settings, self.ports, self.clock, self.mode = settings, ports, clock, mode
        self._schedule = scheduler
        self._queue: queue.Queue = queue.Queue()
        self._timers: dict[TimerKind, Cancellable] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._thread: threading.Thread | None = None
        self.data: LaneData | None = None
        self.handled = 0        # events processed; lets tests and the watchdog see progress

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._guard_gate(self.ports.gate.secure_all)       # first, before anything else
        self._recover_journal()
        snapshot = self._read_sensors()
        self.data, actions = initial(self.settings, mode=self.mode, sensed_open=snapshot.doors_open,
                                     presence=snapshot.presence, emergency=snapshot.emergency, now=self.clock())
        self._execute(actions)
        if snapshot.tamper:
            self.submit(ev.TamperOn())
        self._thread = threading.Thread(target=self._loop, name="lane", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None
        for timer in self._timers.values():
            timer.cancel()
        for cancelled in self._cancels.values():
            cancelled.set()
        self._guard_gate(self.ports.gate.secure_all)

    def submit(self, event) -> None:
        """Thread-safe: any thread may hand an event to the lane."""
        if self._thread is None:
            raise LaneNotRunning("the lane runner is not running")
        self._queue.put(event)

    def on_gate_event(self, gate_event: GateEvent) -> None:
        self._queue.put(lane_event(gate_event))

    def _recover_journal(self) -> None:
        try:
            voided = self.ports.journal.void_open(self.clock())
        except LaneError as exc:
            log.error("lane journal unreadable at start: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.JOURNAL, type(exc).__name__))
            return
        for txn in voided:
            self._report(self.ports.outbox.exception, act.ExceptionKind.TRANSACTION_VOIDED, txn.txn_id,
                         f"unfinished at restart (began {txn.started_at})")

    def _read_sensors(self) -> GateSnapshot:
        try:
            return self.ports.gate.snapshot()
        except DriverError as exc:
            self._queue.put(ev.DeviceFault(Fault.GATE_DRIVER, type(exc).__name__))
            return GateSnapshot(frozenset(), 0, False, False)

    # --- the loop ---------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                return
            self._handle(event)

    def _handle(self, event) -> None:
        self.data, actions = step(self.data, event, self.clock())
        self._execute(actions)
        self.handled += 1

    def _execute(self, actions) -> None:
        for action in actions:
            handler = getattr(self, "_do_" + type(action).__name__)
            handler(action)

    # --- doors ------------------------------------------------------------------------------
    def _guard_gate(self, command, *args) -> None:
        try:
            command(*args)
        except DriverError as exc:
            log.error("gate command failed: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.GATE_DRIVER, type(exc).__name__))

    def _do_OpenDoor(self, action: act.OpenDoor) -> None:
        self._guard_gate(self.ports.gate.open_door, action.door)

    def _do_CloseDoor(self, action: act.CloseDoor) -> None:
        self._guard_gate(self.ports.gate.close_door, action.door)

    def _do_SecureDoors(self, action: act.SecureDoors) -> None:
        self._guard_gate(self.ports.gate.secure_all)

    def _do_ReleaseDoors(self, action: act.ReleaseDoors) -> None:
        self._guard_gate(self.ports.gate.release_all)

    # --- stages -----------------------------------------------------------------------------
    def _worker(self, txn_id: str, stage: ev.Stage, work: Callable[[], object]) -> None:
        def run():
            try:
                self._queue.put(work())
            except Exception as exc:  # a worker must always answer; the type is the reason
                log.warning("%s stage failed: %s", stage.value, type(exc).__name__)
                self._queue.put(ev.StageFailed(txn_id, stage, type(exc).__name__))
        threading.Thread(target=run, name=f"lane-{stage.value}", daemon=True).start()

    def _cancel_event(self, txn_id: str) -> threading.Event:
        return self._cancels.setdefault(txn_id, threading.Event())

    def _do_StartChipRead(self, action: act.StartChipRead) -> None:
        cancelled = self._cancel_event(action.txn_id)
        self._worker(action.txn_id, ev.Stage.CHIP,
                     lambda: ev.ChipResult(action.txn_id, self.ports.chip(action.txn_id, action.mrz, cancelled)))

    def _do_StartFaceCapture(self, action: act.StartFaceCapture) -> None:
        cancelled = self._cancel_event(action.txn_id)
        feedback = lambda key: self._queue.put(ev.FaceFeedback(action.txn_id, key))  # noqa: E731

        def capture():
            return ev.FaceResult(action.txn_id, self.ports.face(action.txn_id, action.round, feedback, cancelled))
        self._worker(action.txn_id, ev.Stage.FACE, capture)

    def _do_RequestDecision(self, action: act.RequestDecision) -> None:
        self._worker(action.txn_id, ev.Stage.DECISION,
                     lambda: ev.DecisionMade(action.txn_id, self.ports.decider(action)))

    def _do_CancelStages(self, action: act.CancelStages) -> None:
        self._cancel_event(action.txn_id).set()

    def _do_RequestOfficerReview(self, action: act.RequestOfficerReview) -> None:
        if self.ports.officer is not None:      # without an officer console the review times out
            self.ports.officer.request_review(action.txn_id, action.decision)

    # --- timers -----------------------------------------------------------------------------
    def _do_StartTimer(self, action: act.StartTimer) -> None:
        self._do_CancelTimer(act.CancelTimer(action.kind))
        expired = ev.Timeout(action.kind, action.token)
        self._timers[action.kind] = self._schedule(action.seconds, lambda: self._queue.put(expired))

    def _do_CancelTimer(self, action: act.CancelTimer) -> None:
        timer = self._timers.pop(action.kind, None)
        if timer is not None:
            timer.cancel()

    # --- outputs ----------------------------------------------------------------------------
    def _do_ShowScreen(self, action: act.ShowScreen) -> None:
        try:
            self.ports.kiosk.show(action.view)
        except Exception as exc:  # the screen is not safety-relevant; the doors do not depend on it
            log.warning("kiosk show failed: %s", type(exc).__name__)

    def _report(self, send, *args) -> None:
        try:
            send(*args)
        except Exception as exc:  # losing a record is not acceptable: stop taking travellers
            log.error("outbox write failed: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.JOURNAL, "outbox " + type(exc).__name__))

    def _do_RaiseAlarm(self, action: act.RaiseAlarm) -> None:
        self._report(self.ports.outbox.alarm, action.kind, action.txn_id, action.detail)

    def _do_RecordException(self, action: act.RecordException) -> None:
        self._report(self.ports.outbox.exception, action.kind, action.txn_id, action.detail)

    def _do_RecordCrossing(self, action: act.RecordCrossing) -> None:
        self._report(self.ports.outbox.crossing, action.record)

    def _do_JournalBegin(self, action: act.JournalBegin) -> None:
        self._journal(self.ports.journal.begin, action.txn_id, action.started_at)

    def _do_EndTransaction(self, action: act.EndTransaction) -> None:
        self._cancels.pop(action.txn_id, threading.Event()).set()   # drops its biometric work
        if self.ports.biometrics is not None:
            self.ports.biometrics.discard(action.txn_id)
        self._journal(self.ports.journal.end, action.txn_id, self.clock(), action.outcome)

    def _journal(self, write, *args) -> None:
        try:
            write(*args)
        except LaneError as exc:
            log.error("lane journal write failed: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.JOURNAL, type(exc).__name__))
