"""The thin runtime around the pure lane: one thread owns the state and executes the actions.

Everything reaches that thread as an event on one queue: gate inputs (gpiozero threads), reader
events, stage results (worker threads), timer expiries, operator commands. Stage workers run the
blocking chip read, face capture and policy; a late answer is dropped by the machine because it
names its transaction. Any port failure becomes an event (DeviceFault / StageFailed): the lane
secures the doors and refers; the runner itself never stops on a device error.

Here: the life cycle, the loop and the watchdog thread. The actions are carried out by
execution.py (one handler per Action type); outbox and journal writes, and those owed after a
refusal, are reports.py's.

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
from collections.abc import Callable
from datetime import datetime

from drivers.errors import DriverError
from drivers.gate.events import GateEvent, GateEventKind, GateSnapshot
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.policy import LaneMode

from . import actions as act
from . import events as ev
from .emergency_doors import EmergencyDoors
from .errors import LaneError, LaneNotRunning
from .execution import ActionExecutor
from .journal import RECORDED_BEFORE_RESTART
from .machine import initial, step
from .ports import LanePorts, Scheduler, thread_timer
from .reports import Reports
from .state import Fault, LaneData, LaneSettings
from .supervision import Supervision, Watchdog, probe_gate, resync_events, safe_stance

log = logging.getLogger(__name__)
_STOP = object()
_PROBE_GATE = object()
_RETRY_OWED = object()
MAX_FAULT_STEPS = 3     # door failures stepped before publishing (each failed command is one fault)


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
        self.supervision, self.monotonic = supervision, monotonic
        self.watchdog = Watchdog(supervision, monotonic)
        self._queue: queue.Queue = queue.Queue()
        self.reports = Reports(ports, self._queue.put, clock)
        self.executor = ActionExecutor(settings, ports, self._queue.put, scheduler, self.watchdog, self.reports,
                                       self._answer)
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None
        self._last_probe = 0.0
        self.broken = False     # a bug escaped the state machine once (doors put in the safe stance)
        self._last_retry = 0.0
        self._thread: threading.Thread | None = None
        self.data: LaneData | None = None
        self.handled = 0        # events processed; lets tests and the watchdog see progress
        self._answers: dict[str, queue.Queue] = {}     # officer overrides waiting for the lane's answer
        self._answers_lock = threading.Lock()
        self.emergency_doors = EmergencyDoors(ports.gate, settings.layout)    # never on the event thread

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        snapshot = self._read_sensors()
        if snapshot.emergency:      # an open emergency loop: never a lock pulse, not even at start
            self.executor.command_gate("release_all", self.ports.gate.release_all)
        else:
            self.executor.command_gate("secure_all", self.ports.gate.secure_all)     # first, before anything else
        self._recover_journal()
        data, actions = initial(self.settings, mode=self.mode, sensed_open=snapshot.doors_open,
                                presence=snapshot.presence, emergency=snapshot.emergency, now=self.clock(),
                                mono=self.monotonic())
        self._act(data, actions)
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
        self.executor.stop()
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

    def _answer(self, answer: act.OverrideAnswered) -> None:
        """On the loop thread, under `_answers_lock` (held by `_handle_override`)."""
        box = self._answers.get(answer.command_id)
        if box is not None:
            box.put_nowait(answer)

    def on_gate_event(self, gate_event: GateEvent) -> None:
        """On the gate's event thread, which must make no gate call: for the safety controller it is
        the client's reader, the only thread that reads the answer (emergency_doors.py)."""
        if gate_event.kind is GateEventKind.EMERGENCY_ON:
            # at once, not through the loop: it may be busy or stuck behind this event
            self.emergency_doors.release()
        elif gate_event.kind is GateEventKind.EMERGENCY_OFF and not self.healthy():
            self._restore_after_emergency()
        event = lane_event(gate_event)
        if event is not None:
            self._queue.put(event)

    def queue_gate_event(self, gate_event: GateEvent) -> None:
        """An input edge the doors already obeyed (before the lane ran): only queued for the machine."""
        event = lane_event(gate_event)
        if event is not None:
            self._queue.put(event)

    def _restore_after_emergency(self) -> None:
        """The emergency ended while no loop would lock the doors again: a stuck or broken one (until
        a restart), or none yet (start() secures, but the build may take a while). The safe stance
        instead, from the emergency worker (as on a stall: the call that stuck the loop may be a gate
        call). A loop that comes back handles EmergencyOff itself."""
        if self._loop_started():
            log.error("emergency ended while the lane loop is stuck: doors to the safe stance")
        else:
            log.info("emergency ended with no lane loop running (before start, after stop): doors to the safe stance")
        self.emergency_doors.stance()

    def _loop_started(self) -> bool:
        """start() has started the loop and stop() has not ended it."""
        thread = self._thread
        return thread is not None and thread.ident is not None

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
            return self.reports.exception(act.ExceptionKind.TRANSACTION_VOIDED, txn.txn_id,
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
        assert self.data is not None        # events are handled only once start() set it
        self._act(*step(self.data, event, self.clock(), self.monotonic()))
        self.handled += 1

    def _act(self, data: LaneData, actions) -> None:
        """Relays first, then publish: `data` becomes `self.data` (read by the BMIS status and
        health) and goes to the observer only after its door commands went through. A door command
        that failed is stepped at once, so what is published is the fault's referral, never a
        'pass' whose doors stayed locked (bounded: the machine ignores a fault it already has)."""
        failed = self.executor.execute(actions)
        for _ in range(MAX_FAULT_STEPS):
            if not failed:
                break
            stepped, failed = failed, []
            for fault in stepped:
                data, actions = step(data, fault, self.clock(), self.monotonic())
                failed += self.executor.execute(actions)
        for fault in failed:
            self._queue.put(fault)      # still failing after the bound: the loop steps it next
        self.data = data
        self._observe()

    def _observe(self) -> None:
        assert self.data is not None
        try:
            self.ports.observer(self.data)
        except Exception as exc:  # an observer (the BMIS status) must never stop the lane
            log.error("lane observer failed: %s", type(exc).__name__)

    def _handle_override(self, event: ev.OfficerOverride) -> None:
        with self._answers_lock:    # its waiter may give up meanwhile: then it is not carried out
            if event.command_id not in self._answers:
                log.warning("officer override %s dropped: nobody waits for its answer", event.command_id)
                return
            assert self.data is not None
            self._act(*step(self.data, event, self.clock(), self.monotonic()))
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
            self.reports.alarm(act.AlarmKind.LANE_STALLED, None, "lane event loop stuck")
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
        if self.reports.owing() and now - self._last_retry >= self.supervision.write_retry_s:
            self._last_retry = now
            self._queue.put(_RETRY_OWED)

    def _retry_owed(self) -> None:
        """On the loop thread: the owed writes in order; once all went through, their faults clear."""
        for fault in sorted(self.reports.retry(), key=lambda f: f.value):
            log.warning("%s writes go through again", fault.value)
            self._handle(ev.DeviceRestored(fault))

    def _probe_gate(self) -> None:
        """On the loop thread: command the doors as the lane wants them; if the driver answers,
        the fault is restored and the inputs missed meanwhile are caught up."""
        assert self.data is not None
        if Fault.GATE_DRIVER not in self.data.faults:
            return
        snapshot = probe_gate(self.ports.gate, self.data)
        if snapshot is None:
            return      # still down; tried again later
        log.warning("gate driver answers again")
        self._handle(ev.DeviceRestored(Fault.GATE_DRIVER))
        for event in resync_events(self.data, snapshot):
            self._handle(event)
