"""The thin runtime around the pure lane: one thread owns the state and executes the actions.

Everything reaches that thread as an event on one queue: gate inputs (gpiozero threads), reader
events, stage results (worker threads), timer expiries, operator commands. Stage workers run the
blocking chip read, face capture and policy; a late answer is dropped by the machine because it
names its transaction. Any port failure becomes an event (DeviceFault / StageFailed): the lane
secures the doors and refers; the runner itself never stops on a device error.

Start order (safety rule): doors secured first, then unfinished transactions voided and reported,
then the sensors read and the lane started from them.

A watchdog thread (supervision.py) finds hung stage workers and a stuck loop; `healthy()` is what
the app's systemd watchdog ping should depend on. A faulted gate driver is tried again every
`gate_probe_s`: when it answers, the doors are commanded again first, then the lane resumes.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from drivers.errors import DriverError
from drivers.gate.events import GateEvent, GateEventKind, GateSnapshot
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.policy import LaneMode

from . import actions as act
from . import events as ev
from .errors import LaneError, LaneNotRunning
from .journal import RECORDED_BEFORE_RESTART, LaneJournal
from .machine import initial, step
from .owed import OwedWrites
from .ports import (BiometricStore, Cancellable, ChipStage, Decider, FaceStage, GatePort, KioskPort, OfficerPort, OutboxPort,
                    Scheduler, thread_timer)
from .state import Fault, LaneData, LaneSettings, TimerKind
from .supervision import Supervision, Watchdog, probe_gate, resync_events, safe_stance, stage_budget

log = logging.getLogger(__name__)
_STOP = object()
_PROBE_GATE = object()
_RETRY_OWED = object()


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
    # the safety controller's link: down is a gate fault at once; up is left to the gate probe,
    # which commands the doors and resynchronises from the controller before restoring the lane
    GateEventKind.LINK_DOWN: lambda e: ev.DeviceFault(Fault.GATE_DRIVER, "safety controller link lost"),
    GateEventKind.LINK_UP: lambda e: None,
}


def lane_event(gate_event: GateEvent):
    return _GATE_EVENTS[gate_event.kind](gate_event)


# The language choice stays with the kiosk (languages.py); the lane has nothing to do for it.
_TRAVELLER_EVENTS = {InputKind.MORE_TIME: ev.MoreTimeRequested, InputKind.ASSISTANCE: ev.AssistanceRequested}


def traveller_event(traveller_input: TravellerInput):
    """The lane event for a kiosk input, or None when the lane need not know."""
    make = _TRAVELLER_EVENTS.get(traveller_input.kind)
    return make() if make is not None else None


class LaneRunner:
    def __init__(self, settings: LaneSettings, ports: LanePorts, clock: Callable[[], datetime],
                 mode: LaneMode = LaneMode.NORMAL, scheduler: Scheduler = thread_timer,
                 supervision: Supervision = Supervision(), monotonic: Callable[[], float] = time.monotonic):
        self.settings, self.ports, self.clock, self.mode = settings, ports, clock, mode
        self._schedule = scheduler
        self.supervision, self.monotonic = supervision, monotonic
        self.watchdog = Watchdog(supervision, monotonic)
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None
        self._last_probe = 0.0
        self.broken = False     # a bug escaped the state machine once (doors put in the safe stance)
        self._queue: queue.Queue = queue.Queue()
        self._timers: dict[TimerKind, Cancellable] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._unrecorded: set[str] = set()     # crossings the outbox refused (loop thread only)
        self._owed = OwedWrites()               # refused writes, tried again until they succeed
        self._last_retry = 0.0
        self._thread: threading.Thread | None = None
        self.data: LaneData | None = None
        self.handled = 0        # events processed; lets tests and the watchdog see progress
        self._answers: dict[str, queue.Queue] = {}     # officer overrides waiting for the lane's answer
        self._answers_lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._guard_gate(self.ports.gate.secure_all)       # first, before anything else
        self._recover_journal()
        snapshot = self._read_sensors()
        self.data, actions = initial(self.settings, mode=self.mode, sensed_open=snapshot.doors_open,
                                     presence=snapshot.presence, emergency=snapshot.emergency, now=self.clock(),
                                     mono=self.monotonic())
        self._execute(actions)
        if snapshot.tamper:
            self._queue.put(ev.TamperOn())     # the loop thread does not exist yet: queue directly
        self._thread = threading.Thread(target=self._loop, name="lane", daemon=True)
        self._thread.start()
        self._watch_stop.clear()
        self._watch_thread = threading.Thread(target=self._watch, name="lane-watchdog", daemon=True)
        self._watch_thread.start()

    def healthy(self) -> bool:
        """For the app's systemd watchdog ping: the loop runs, is not stuck, and never broke."""
        running = self._thread is not None and self._thread.is_alive()
        return running and not self.watchdog.stalled and not self.broken

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self._watch_stop.set()
        if self._watch_thread is not None:
            self._watch_thread.join(timeout)
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None
        for timer in self._timers.values():
            timer.cancel()
        for cancelled in self._cancels.values():
            cancelled.set()
        safe_stance(self.ports.gate, self.settings.layout)     # secured, but nobody shut in

    def submit(self, event) -> None:
        """Thread-safe: any thread may hand an event to the lane."""
        if self._thread is None:
            raise LaneNotRunning("the lane runner is not running")
        self._queue.put(event)

    def officer_override(self, event: ev.OfficerOverride, timeout: float = 2.0) -> act.OverrideAnswered | None:
        """Thread-safe: hand an override to the lane and wait for its answer. None when the lane did
        not answer in time; the override is then dropped, never carried out later."""
        box: queue.Queue = queue.Queue(maxsize=1)
        with self._answers_lock:
            self._answers[event.command_id] = box
        self.submit(event)
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            with self._answers_lock:
                self._answers.pop(event.command_id, None)
            try:
                return box.get_nowait()     # answered while we gave up
            except queue.Empty:
                return None
        finally:
            with self._answers_lock:
                self._answers.pop(event.command_id, None)

    def on_gate_event(self, gate_event: GateEvent) -> None:
        if gate_event.kind is GateEventKind.EMERGENCY_ON:
            # at once, on the input's thread: the loop may be busy or stuck behind this event
            self._release_now()
        elif gate_event.kind is GateEventKind.EMERGENCY_OFF and not self.healthy():
            self._restore_after_emergency()
        event = lane_event(gate_event)
        if event is not None:
            self._queue.put(event)

    def _release_now(self) -> None:
        try:
            self.ports.gate.release_all()
        except DriverError as exc:
            log.error("emergency release failed: %s", type(exc).__name__)

    def _restore_after_emergency(self) -> None:
        """The emergency ended while the loop is stuck or broken: nobody would lock the doors again
        until a restart. The safe stance instead, from a helper thread (as on a stall: the call that
        stuck the loop may be a gate call). A loop that comes back handles EmergencyOff itself."""
        log.error("emergency ended while the lane loop is stuck: doors to the safe stance")
        threading.Thread(target=safe_stance, args=(self.ports.gate, self.settings.layout),
                         name="lane-emergency-end", daemon=True).start()

    def on_traveller_input(self, traveller_input: TravellerInput) -> None:
        """The kiosk server's `on_input` (called on its thread): only queues."""
        event = traveller_event(traveller_input)
        if event is not None:
            self._queue.put(event)

    def _recover_journal(self) -> None:
        """The outbox insert and the journal close are two commits: a crash between them leaves a
        transaction open whose crossing is stored. The outbox is asked first, so one transaction is
        never reported twice (crossing + voided)."""
        def report(txn) -> bool | str:     # reported before closed: a failed report is tried at next start
            try:
                if self.ports.outbox.has_crossing(txn.txn_id):
                    return RECORDED_BEFORE_RESTART
            except Exception as exc:  # cannot tell: leave it open rather than risk a second report
                log.error("outbox unreadable at start: %s", type(exc).__name__)
                self._queue.put(ev.DeviceFault(Fault.OUTBOX, type(exc).__name__))
                return False
            return self._report(self.ports.outbox.exception, act.ExceptionKind.TRANSACTION_VOIDED, txn.txn_id,
                                f"unfinished at restart (began {txn.started_at})", owe=False)
        try:
            self.ports.journal.void_open(self.clock(), report)
        except LaneError as exc:
            log.error("lane journal unreadable at start: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.JOURNAL, type(exc).__name__))

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
            self.watchdog.loop_busy()
            try:
                if event is _PROBE_GATE:
                    self._probe_gate()
                elif event is _RETRY_OWED:
                    self._retry_owed()
                else:
                    self._handle(event)
            except Exception as exc:  # a bug must not kill the loop with the doors as they are
                log.error("lane loop: %s handling %s", type(exc).__name__, type(event).__name__)
                self.broken = True
                safe_stance(self.ports.gate, self.settings.layout)
            finally:
                self.watchdog.loop_idle()

    def _handle(self, event) -> None:
        if isinstance(event, ev.OfficerOverride):
            self._handle_override(event)
            return
        self.data, actions = step(self.data, event, self.clock(), self.monotonic())
        self._execute(actions)
        self.handled += 1

    def _handle_override(self, event: ev.OfficerOverride) -> None:
        with self._answers_lock:    # its waiter may give up meanwhile: then it is not carried out
            if event.command_id not in self._answers:
                log.warning("officer override %s dropped: nobody waits for its answer", event.command_id)
                return
            self.data, actions = step(self.data, event, self.clock(), self.monotonic())
            self._execute(actions)
            self.handled += 1

    # --- supervision ------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._watch_stop.wait(self.supervision.tick_s):
            events, stalled, recovered = self.watchdog.check()
            for event in events:
                self._queue.put(event)
            if stalled:
                self._on_stall()
            if recovered:
                self._queue.put(ev.DeviceRestored(Fault.LANE_LOOP))
            self._maybe_probe_gate()
            self._maybe_retry_owed()

    def _on_stall(self) -> None:
        """The loop cannot act: doors to the safe stance and the officer told, from a helper thread
        (the call that stuck the loop may be a gate or outbox call that would stick us too)."""
        log.error("lane loop stuck for more than %.1f s", self.supervision.stall_s)
        self._queue.put(ev.DeviceFault(Fault.LANE_LOOP, "event loop stuck"))

        def secure_and_alarm():
            safe_stance(self.ports.gate, self.settings.layout)
            self._report(self.ports.outbox.alarm, act.AlarmKind.LANE_STALLED, None, "lane event loop stuck",
                         ordered=False)
        threading.Thread(target=secure_and_alarm, name="lane-stall", daemon=True).start()

    def _maybe_probe_gate(self) -> None:
        data = self.data
        now = self.monotonic()
        if data is None or Fault.GATE_DRIVER not in data.faults:
            return
        if now - self._last_probe >= self.supervision.gate_probe_s:
            self._last_probe = now
            self._queue.put(_PROBE_GATE)

    def _maybe_retry_owed(self) -> None:
        now = self.monotonic()
        if len(self._owed) and now - self._last_retry >= self.supervision.write_retry_s:
            self._last_retry = now
            self._queue.put(_RETRY_OWED)

    def _retry_owed(self) -> None:
        """On the loop thread: the owed writes in order; once all went through, their faults clear."""
        for fault in sorted(self._owed.retry(), key=lambda f: f.value):
            log.warning("%s writes go through again", fault.value)
            self._handle(ev.DeviceRestored(fault))

    def _probe_gate(self) -> None:
        """On the loop thread: command the doors as the lane wants them; if the driver answers,
        the fault is restored and the inputs missed meanwhile are caught up."""
        if Fault.GATE_DRIVER not in self.data.faults:
            return
        snapshot = probe_gate(self.ports.gate, self.data)
        if snapshot is None:
            return      # still down; tried again later
        log.warning("gate driver answers again")
        self._handle(ev.DeviceRestored(Fault.GATE_DRIVER))
        for event in resync_events(self.data, snapshot):
            self._handle(event)

    def _execute(self, actions) -> None:
        for action in actions:
            handler = getattr(self, "_do_" + type(action).__name__)
            handler(action)

    # --- doors ------------------------------------------------------------------------------
    def _guard_gate(self, command, *args) -> None:
        try:
            command(*args)
        except DriverError as exc:
            what = " ".join([getattr(command, "__name__", "command")] + [getattr(a, "value", str(a)) for a in args])
            log.error("gate command %s failed: %s", what, type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.GATE_DRIVER, f"{what}: {type(exc).__name__}"))

    def _do_OpenDoor(self, action: act.OpenDoor) -> None:
        if action.passage is None:
            self._guard_gate(self.ports.gate.open_door, action.door)
        else:       # names the passage: a safety controller opens the exit only for the current one
            self._guard_gate(lambda door: self.ports.gate.open_door(door, passage=action.passage), action.door)

    def _do_CloseDoor(self, action: act.CloseDoor) -> None:
        self._guard_gate(self.ports.gate.close_door, action.door)

    def _do_SecureDoors(self, action: act.SecureDoors) -> None:
        self._guard_gate(self.ports.gate.secure_all)

    def _do_ReleaseDoors(self, action: act.ReleaseDoors) -> None:
        self._guard_gate(self.ports.gate.release_all)

    # --- stages -----------------------------------------------------------------------------
    def _worker(self, txn_id: str, stage: ev.Stage, work: Callable[[], object]) -> None:
        ticket = self.watchdog.worker_started(stage, stage_budget(stage, self.settings.timeouts))

        def run():
            try:
                self._queue.put(work())     # a late answer names its transaction: the machine drops it
            except Exception as exc:  # a worker must always answer; the type is the reason
                log.warning("%s stage failed: %s", stage.value, type(exc).__name__)
                self._queue.put(ev.StageFailed(txn_id, stage, type(exc).__name__))
            finally:
                for event in self.watchdog.worker_finished(ticket):
                    self._queue.put(event)
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

    def _report(self, send, *args, owe: bool = True, ordered: bool = True) -> bool:
        """False when the outbox refused: then the report is owed (kept and retried) unless `owe` is off.
        While writes are owed, records queue behind them (a crossing before its journal close);
        alarms (`ordered` off) are tried at once: the outbox keeps a reserve for them."""
        if owe and ordered and len(self._owed):
            self._owed.add(getattr(send, "__name__", "report"), lambda: send(*args), Fault.OUTBOX)
            return False
        try:
            send(*args)
            return True
        except Exception as exc:  # losing a record is not acceptable: stop taking travellers
            log.error("outbox write failed: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.OUTBOX, type(exc).__name__))
            if owe:
                self._owed.add(getattr(send, "__name__", "report"), lambda: send(*args), Fault.OUTBOX)
            return False

    def _do_RaiseAlarm(self, action: act.RaiseAlarm) -> None:
        self._report(self.ports.outbox.alarm, action.kind, action.txn_id, action.detail, ordered=False)

    def _do_RecordException(self, action: act.RecordException) -> None:
        self._report(self.ports.outbox.exception, action.kind, action.txn_id, action.detail)

    def _do_RecordCrossing(self, action: act.RecordCrossing) -> None:
        if not self._report(self.ports.outbox.crossing, action.record):
            self._unrecorded.add(action.record.transaction_id)

    def _do_JournalBegin(self, action: act.JournalBegin) -> None:
        self._journal(self.ports.journal.begin, action.txn_id, action.started_at)

    def _do_EndTransaction(self, action: act.EndTransaction) -> None:
        self._cancels.pop(action.txn_id, threading.Event()).set()   # drops its biometric work
        if self.ports.biometrics is not None:
            self.ports.biometrics.discard(action.txn_id)
        if action.txn_id in self._unrecorded:    # closed once its owed crossing is recorded (open if we stop first)
            self._unrecorded.discard(action.txn_id)
            self._owed.add("journal end", lambda end=(action.txn_id, self.clock(), action.outcome):
                           self.ports.journal.end(*end), Fault.OUTBOX)
            return
        self._journal(self.ports.journal.end, action.txn_id, self.clock(), action.outcome)

    def _do_OverrideAnswered(self, action: act.OverrideAnswered) -> None:
        box = self._answers.get(action.command_id)
        if box is not None:
            box.put_nowait(action)

    def _journal(self, write, *args) -> None:
        if len(self._owed):     # behind what is owed: a journal close never overtakes its crossing
            self._owed.add(getattr(write, "__name__", "journal"), lambda: write(*args), Fault.OUTBOX)
            return
        try:
            write(*args)
        except LaneError as exc:
            log.error("lane journal write failed: %s", type(exc).__name__)
            self._queue.put(ev.DeviceFault(Fault.JOURNAL, type(exc).__name__))
            self._owed.add(getattr(write, "__name__", "journal"), lambda: write(*args), Fault.JOURNAL)
