"""The lane's transitions: `step(data, event, now) -> (data, actions)`. Pure: no I/O, no clock.

Order of precedence: emergency, then lane-wide safety events (tamper, faults, door sensors,
presence, mode), then the current state's own handling. An event the current state does not
expect, or one for another transaction (a late stage answer), changes nothing.
"""
from __future__ import annotations

from datetime import datetime

from drivers.gate.layout import Door
from firmware_app.policy import LaneMode

from . import events as ev
from . import flow, safety
from .actions import Action
from .lifecycle import settle
from .passage import passage_timeout
from .safety import check_inside, officer_override, override_timeout, retreat_timeout
from .state import HELD_OPEN_TIMER, LaneData, LaneSettings, State, TimerKind
from .step import Step
from .views import state_view

_HELD_OPEN_DOOR = {kind: door for door, kind in HELD_OPEN_TIMER.items()}
_BEFORE_DECISION = frozenset({State.DOCUMENT, State.CHIP, State.FACE, State.DECIDE, State.OFFICER_REVIEW})
_STAGE_STATE = {ev.Stage.CHIP: State.CHIP, ev.Stage.FACE: State.FACE, ev.Stage.DECISION: State.DECIDE}
_STAGE_TIMER = {TimerKind.CHIP: ev.Stage.CHIP, TimerKind.FACE: ev.Stage.FACE, TimerKind.DECISION: ev.Stage.DECISION}


def initial(settings: LaneSettings, *, mode: LaneMode | None = None, sensed_open: frozenset[Door] = frozenset(),
            presence: int = 0, emergency: bool = False, now: datetime,
            mono: float | None = None) -> tuple[LaneData, tuple[Action, ...]]:
    """The lane at start: doors secured first (released in an emergency), then the resting state
    from the sensors' readings."""
    data = LaneData(settings=settings, state=State.OUT_OF_SERVICE, presence=presence,
                    mode=mode or LaneMode.NORMAL)
    s = Step(data, now, mono)
    s.set(sensed_open=frozenset(sensed_open))
    if emergency:
        safety.emergency_on(s)      # released at once: no lock pulse before the release
    else:
        s.secure_doors()
        settle(s)
        if s.data.state is State.OUT_OF_SERVICE:
            s.show(state_view(State.OUT_OF_SERVICE))
        check_inside(s)
    return s.result()


def step(data: LaneData, event: ev.Event, now: datetime,
         mono: float | None = None) -> tuple[LaneData, tuple[Action, ...]]:
    """`now` is wall time (records, screens); `mono` the monotonic clock (step durations)."""
    s = Step(data, now, mono)
    if not _lane_wide(s, event) and not data.emergency:
        _in_state(s, event)
    check_inside(s)
    return s.result()


def _lane_wide(s: Step, event: object) -> bool:
    """Handle events that matter in every state; True when fully handled."""
    match event:
        case ev.EmergencyOn():
            safety.emergency_on(s)
        case ev.EmergencyOff():
            safety.emergency_off(s)
        case ev.TamperOn() | ev.TamperOff():
            safety.tamper(s, isinstance(event, ev.TamperOn))
        case ev.DeviceFault():
            safety.device_fault(s, event)
        case ev.DeviceRestored():
            safety.fault(s, event.fault, False)
        case ev.DoorOpened():
            safety.door_opened(s, event.door)
        case ev.DoorClosed():
            safety.door_closed(s, event.door)
        case ev.PresenceChanged():
            safety.presence(s, max(0, event.count))
        case ev.ModeChanged():
            safety.mode_changed(s, event)
        case ev.AssistanceRequested() | ev.AssistanceAnswered() | ev.MoreTimeRequested():
            _traveller_input(s, event)
        case ev.Timeout() if event.kind in _HELD_OPEN_DOOR:
            if s.data.timer_token(event.kind) == event.token:
                safety.held_open_timeout(s, _HELD_OPEN_DOOR[event.kind])
        case ev.Timeout(kind=TimerKind.EXIT) if s.data.leaving is not None:
            if s.data.timer_token(event.kind) == event.token:
                safety.leaving_timeout(s)
        case ev.Timeout(kind=TimerKind.RETREAT):
            if s.data.timer_token(event.kind) == event.token:
                retreat_timeout(s)
        case ev.OfficerOverride():
            officer_override(s, event)
        case ev.Timeout(kind=TimerKind.OVERRIDE):
            if s.data.timer_token(event.kind) == event.token:
                override_timeout(s)
        case _:
            return False
    return True


def _traveller_input(s: Step, event: object) -> None:
    """The kiosk's buttons: they change the screen and call officers, never the doors."""
    if isinstance(event, ev.AssistanceRequested):
        flow.assistance_requested(s)
    elif isinstance(event, ev.AssistanceAnswered):
        flow.assistance_answered(s)
    elif not s.data.emergency:
        flow.more_time(s)


def _current(s: Step, event: object) -> bool:
    """A stage answer or timer for what is running now (not a stale one)."""
    if isinstance(event, ev.Timeout):
        return s.data.timer_token(event.kind) == event.token
    if isinstance(event, ev.TRANSACTION_EVENTS):
        return s.txn is not None and s.txn.txn_id == event.txn_id
    return True


def _in_state(s: Step, event: object) -> None:
    if not _current(s, event):
        return
    state = s.data.state
    if state in (State.IDLE, State.DOCUMENT):
        _document_states(s, event)
    elif state in _BEFORE_DECISION:
        _stage_states(s, event)
    elif state in (State.PASSAGE, State.CLOSING):
        if isinstance(event, ev.Timeout):
            s.forget_timer(event.kind)
            passage_timeout(s, event.kind)
    elif state is State.REFER:
        _refer_state(s, event)
    elif state in (State.OUT_OF_SERVICE, State.CLOSED) and isinstance(event, ev.DocumentPresented):
        s.show(state_view(state))     # remind the traveller; no transaction starts


def _document_states(s: Step, event: object) -> None:
    match event:
        case ev.DocumentPresented():
            flow.document_presented(s, event)
        case ev.DocumentUnreadable():
            flow.document_unreadable(s, event)
        case ev.Timeout(kind=TimerKind.DOCUMENT) if s.txn is not None:
            s.forget_timer(TimerKind.DOCUMENT)
            flow.go_decide(s)


def _stage_states(s: Step, event: object) -> None:
    state = s.data.state
    match event:
        case ev.DocumentRemoved():
            flow.abandon(s)
        case ev.ChipResult() if state is State.CHIP:
            flow.chip_result(s, event)
        case ev.FaceFeedback() if state is State.FACE:
            flow.face_feedback(s, event)
        case ev.FaceResult() if state is State.FACE:
            flow.face_result(s, event)
        case ev.StageFailed() if _STAGE_STATE.get(event.stage) is state:
            flow.stage_failed(s, event.stage, event.reason, timed_out=False)
        case ev.DecisionMade() if state is State.DECIDE:
            flow.decision_made(s, event)
        case ev.OfficerDecision() if state is State.OFFICER_REVIEW:
            flow.officer_decision(s, event)
        case ev.Timeout(kind=TimerKind.OFFICER) if state is State.OFFICER_REVIEW:
            s.forget_timer(TimerKind.OFFICER)
            flow.officer_timeout(s)
        case ev.Timeout() if event.kind in _STAGE_TIMER and _STAGE_STATE[_STAGE_TIMER[event.kind]] is state:
            s.forget_timer(event.kind)
            flow.stage_failed(s, _STAGE_TIMER[event.kind], "timeout", timed_out=True)


def _refer_state(s: Step, event: object) -> None:
    match event:
        case ev.DocumentRemoved():
            s.cancel_timer(TimerKind.REFER)
            settle(s)
        case ev.Timeout(kind=TimerKind.REFER):
            s.forget_timer(TimerKind.REFER)
            settle(s)
