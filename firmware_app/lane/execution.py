"""Executing the lane's actions against its ports, on the loop thread.

Every Action type has one handler in `HANDLERS` (a test checks that none is missing). A door
command that fails becomes a gate fault; stage work runs on worker threads whose answer (or
failure) comes back as an event; a timer posts its Timeout; reports and journal writes go through
`Reports` (owed when refused). Nothing here decides: the machine did.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from drivers.errors import DriverError

from . import actions as act
from . import events as ev
from .ports import Cancellable, LanePorts, Scheduler
from .reports import Reports
from .state import Fault, LaneSettings, TimerKind
from .supervision import Watchdog, stage_budget

log = logging.getLogger(__name__)


class ActionExecutor:
    def __init__(self, settings: LaneSettings, ports: LanePorts, post: Callable[[object], None],
                 scheduler: Scheduler, watchdog: Watchdog, reports: Reports,
                 on_answer: Callable[[act.OverrideAnswered], None]):
        self.settings, self.ports, self.reports, self.watchdog = settings, ports, reports, watchdog
        self._post, self._schedule, self._on_answer = post, scheduler, on_answer
        self._timers: dict[TimerKind, Cancellable] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._failed: list[ev.DeviceFault] | None = None     # collects door failures inside execute()

    def execute(self, actions) -> list[ev.DeviceFault]:
        """Carry out one step's actions in order. A door command that fails is returned, not queued,
        so the runner steps the fault before anybody sees the state; the step's later screens are
        not shown (they describe doors that did not move)."""
        failed: list[ev.DeviceFault] = []
        self._failed = failed
        try:
            for action in actions:
                if failed and isinstance(action, act.ShowScreen):
                    continue
                HANDLERS[type(action)](self, action)
        finally:
            self._failed = None
        return failed

    def stop(self) -> None:
        """The runner stopped: no timer fires and every running stage is told to give up."""
        for timer in self._timers.values():
            timer.cancel()
        for cancelled in self._cancels.values():
            cancelled.set()

    # --- doors ------------------------------------------------------------------------------
    def command_gate(self, what: str, command: Callable[[], None]) -> None:
        """`what` names the command in the log and in the gate fault's detail."""
        try:
            command()
        except DriverError as exc:
            log.error("gate command %s failed: %s", what, type(exc).__name__)
            fault = ev.DeviceFault(Fault.GATE_DRIVER, f"{what}: {type(exc).__name__}")
            if self._failed is not None:
                self._failed.append(fault)
            else:
                self._post(fault)

    def _open_door(self, action: act.OpenDoor) -> None:
        gate, door = self.ports.gate, action.door
        if action.passage is None:
            self.command_gate(f"open_door {door.value}", lambda: gate.open_door(door))
        else:       # names the passage: a safety controller opens the exit only for the current one
            self.command_gate(f"open_door {door.value}", lambda: gate.open_door(door, passage=action.passage))

    def _close_door(self, action: act.CloseDoor) -> None:
        self.command_gate(f"close_door {action.door.value}", lambda: self.ports.gate.close_door(action.door))

    def _secure_doors(self, action: act.SecureDoors) -> None:
        self.command_gate("secure_all", self.ports.gate.secure_all)

    def _release_doors(self, action: act.ReleaseDoors) -> None:
        self.command_gate("release_all", self.ports.gate.release_all)

    # --- stages -----------------------------------------------------------------------------
    def _worker(self, txn_id: str, stage: ev.Stage, work: Callable[[], object]) -> None:
        ticket = self.watchdog.worker_started(stage, stage_budget(stage, self.settings.timeouts))

        def run():
            try:
                self._post(work())     # a late answer names its transaction: the machine drops it
            except Exception as exc:  # a worker must always answer; the type is the reason
                log.warning("%s stage failed: %s", stage.value, type(exc).__name__)
                self._post(ev.StageFailed(txn_id, stage, type(exc).__name__))
            finally:
                for event in self.watchdog.worker_finished(ticket):
                    self._post(event)
        threading.Thread(target=run, name=f"lane-{stage.value}", daemon=True).start()

    def _cancel_event(self, txn_id: str) -> threading.Event:
        return self._cancels.setdefault(txn_id, threading.Event())

    def _start_chip_read(self, action: act.StartChipRead) -> None:
        cancelled = self._cancel_event(action.txn_id)
        self._worker(action.txn_id, ev.Stage.CHIP,
                     lambda: ev.ChipResult(action.txn_id, self.ports.chip(action.txn_id, action.mrz, cancelled)))
        if self.ports.face_early is not None:
            self._early_face(action.txn_id, cancelled)

    def _early_face(self, txn_id: str, cancelled: threading.Event) -> None:
        """The face capture begins while the chip is read (the face stage takes it over). No answer
        and no watchdog ticket: the face stage, which waits for it a bounded time, has both."""
        early = self.ports.face_early
        assert early is not None

        def run():
            try:
                early(txn_id, cancelled)
            except Exception as exc:  # the face stage captures afresh; the lane need not know
                log.warning("early face capture failed: %s", type(exc).__name__)
        threading.Thread(target=run, name="lane-face-early", daemon=True).start()

    def _start_face_capture(self, action: act.StartFaceCapture) -> None:
        cancelled = self._cancel_event(action.txn_id)
        feedback = lambda key: self._post(ev.FaceFeedback(action.txn_id, key))  # noqa: E731

        def capture():
            return ev.FaceResult(action.txn_id, self.ports.face(action.txn_id, action.round, feedback, cancelled))
        self._worker(action.txn_id, ev.Stage.FACE, capture)

    def _request_decision(self, action: act.RequestDecision) -> None:
        self._worker(action.txn_id, ev.Stage.DECISION,
                     lambda: ev.DecisionMade(action.txn_id, self.ports.decider(action)))

    def _cancel_stages(self, action: act.CancelStages) -> None:
        self._cancel_event(action.txn_id).set()

    def _request_officer_review(self, action: act.RequestOfficerReview) -> None:
        if self.ports.officer is None:          # without an officer console the review times out
            return
        try:
            self.ports.officer.request_review(action.txn_id, action.decision, action.evidence)
        except Exception as exc:  # a broken console must not break the lane: the review times out and refers
            log.error("officer review request failed: %s", type(exc).__name__)

    # --- timers -----------------------------------------------------------------------------
    def _start_timer(self, action: act.StartTimer) -> None:
        self._cancel_timer(act.CancelTimer(action.kind))
        expired = ev.Timeout(action.kind, action.token)
        self._timers[action.kind] = self._schedule(action.seconds, lambda: self._post(expired))

    def _cancel_timer(self, action: act.CancelTimer) -> None:
        timer = self._timers.pop(action.kind, None)
        if timer is not None:
            timer.cancel()

    # --- outputs ----------------------------------------------------------------------------
    def _show_screen(self, action: act.ShowScreen) -> None:
        try:
            self.ports.kiosk.show(action.view)
        except Exception as exc:  # the screen is not safety-relevant; the doors do not depend on it
            log.warning("kiosk show failed: %s", type(exc).__name__)

    def _raise_alarm(self, action: act.RaiseAlarm) -> None:
        self.reports.alarm(action.kind, action.txn_id, action.detail)

    def _record_exception(self, action: act.RecordException) -> None:
        self.reports.exception(action.kind, action.txn_id, action.detail)

    def _record_crossing(self, action: act.RecordCrossing) -> None:
        self.reports.crossing(action.record)

    def _journal_begin(self, action: act.JournalBegin) -> None:
        self.reports.begin(action.txn_id, action.started_at)

    def _end_transaction(self, action: act.EndTransaction) -> None:
        self._cancels.pop(action.txn_id, threading.Event()).set()   # drops its biometric work
        if self.ports.biometrics is not None:
            self.ports.biometrics.discard(action.txn_id)
        self.reports.end(action.txn_id, action.outcome)

    def _override_answered(self, action: act.OverrideAnswered) -> None:
        self._on_answer(action)


# One handler per Action type, named here rather than built from the class name, so a new action
# without a handler fails its test instead of the loop.
HANDLERS: dict[type, Callable[[ActionExecutor, Any], None]] = {
    act.OpenDoor: ActionExecutor._open_door, act.CloseDoor: ActionExecutor._close_door,
    act.SecureDoors: ActionExecutor._secure_doors, act.ReleaseDoors: ActionExecutor._release_doors,
    act.StartChipRead: ActionExecutor._start_chip_read, act.StartFaceCapture: ActionExecutor._start_face_capture,
    act.RequestDecision: ActionExecutor._request_decision, act.CancelStages: ActionExecutor._cancel_stages,
    act.RequestOfficerReview: ActionExecutor._request_officer_review,
    act.StartTimer: ActionExecutor._start_timer, act.CancelTimer: ActionExecutor._cancel_timer,
    act.ShowScreen: ActionExecutor._show_screen, act.RaiseAlarm: ActionExecutor._raise_alarm,
    act.RecordException: ActionExecutor._record_exception, act.RecordCrossing: ActionExecutor._record_crossing,
    act.JournalBegin: ActionExecutor._journal_begin, act.EndTransaction: ActionExecutor._end_transaction,
    act.OverrideAnswered: ActionExecutor._override_answered,
}
