"""Passage of the PASS-decided traveller: open the entry, one person in, close behind, open the exit.

Barrier layout: the entry door is the barrier; it stays open until the traveller has gone through.
Two people at once keep the exit shut: in a mantrap the entry stays open so they can step back.
"""
from __future__ import annotations

from drivers.gate.layout import Door, LayoutKind

from .actions import AlarmKind, ExceptionKind
from .leaving import hand_off
from .lifecycle import end, settle
from .state import CrossingOutcome, Phase, State, TimerKind
from .step import Step
from .views import passage_view


def _mantrap(s: Step) -> bool:
    return s.data.settings.layout is LayoutKind.MANTRAP


def _last_door(s: Step) -> Door:
    return Door.EXIT if _mantrap(s) else Door.ENTRY


def _phase(s: Step, phase: Phase) -> None:
    s.update_txn(phase=phase)
    closing = phase in (Phase.ENTRY_CLOSING, Phase.EXIT_CLOSING, Phase.ABORT_CLOSING)
    s.to(State.CLOSING if closing else State.PASSAGE)
    s.show(passage_view(s.active))


def start_passage(s: Step) -> None:
    s.mark("passage")
    s.update_txn(max_presence=s.data.presence)
    s.open_door(Door.ENTRY)
    s.start_timer(TimerKind.ENTER, s.data.settings.timeouts.enter_s)
    _phase(s, Phase.ENTERING)


def presence_in_passage(s: Step, count: int) -> None:
    phase = s.active.phase
    if count >= 2 and phase not in (Phase.TAILGATE_HOLD, Phase.ABORT_CLOSING, Phase.EXIT_CLOSING):
        tailgating(s)
    elif phase is Phase.ENTERING and count == 1:
        _entered(s)
    elif phase is Phase.ENTRY_CLOSING and count == 0:
        _abort(s)           # stepped back out before the entry shut
    elif phase is Phase.EXITING and count == 0:
        _left(s)
    elif phase is Phase.TAILGATE_HOLD and count == 0:
        _abort(s)


def _entered(s: Step) -> None:
    s.update_txn(entered=True)
    s.cancel_timer(TimerKind.ENTER)
    if not _mantrap(s):
        s.start_timer(TimerKind.EXIT, s.data.settings.timeouts.exit_s)
        _phase(s, Phase.EXITING)
        return
    s.close_door(Door.ENTRY)
    _phase(s, Phase.ENTRY_CLOSING)
    if s.door_is_shut(Door.ENTRY):
        _entry_shut(s)


def _entry_shut(s: Step) -> None:
    count = s.data.presence
    if count >= 2:
        tailgating(s)
    elif count == 0:
        _abort(s)
    else:
        s.open_door(Door.EXIT)
        s.start_timer(TimerKind.EXIT, s.data.settings.timeouts.exit_s)
        _phase(s, Phase.EXITING)
        if not s.data.retreat and not s.data.emergency:
            hand_off(s)         # the next traveller is checked while this one walks out


def _left(s: Step) -> None:
    """Out through the last door: the crossing is done. The door shuts behind them while the lane
    already takes the next document (its held-open timer watches it; no door opens for the next
    traveller before it is confirmed shut, see flow.apply_decision)."""
    s.cancel_timer(TimerKind.EXIT)
    s.close_door(_last_door(s))
    _phase(s, Phase.EXIT_CLOSING)
    if not s.door_is_shut(_last_door(s)):
        s.set(closing_behind=_last_door(s))
    _complete(s)


def _abort(s: Step) -> None:
    """No (further) passage: shut the entry, then finish once it is confirmed closed."""
    s.cancel_timer(TimerKind.ENTER)
    s.cancel_timer(TimerKind.TAILGATE)
    for door in sorted(s.data.commanded_open):
        s.close_door(door)
    _phase(s, Phase.ABORT_CLOSING)
    if not s.data.closing:
        _complete(s)


def tailgating(s: Step) -> None:
    s.alarm(AlarmKind.TAILGATING)
    s.exception(ExceptionKind.TAILGATING, f"presence {s.data.presence}")
    s.cancel_timer(TimerKind.ENTER)
    s.cancel_timer(TimerKind.EXIT)
    if not _mantrap(s):
        _abort(s)       # a barrier closes on the second person (its own safety edge protects them)
        return
    if Door.EXIT in s.data.commanded_open:
        s.close_door(Door.EXIT)
    if Door.ENTRY not in s.data.commanded_open:
        s.open_door(Door.ENTRY)       # never trap two people: the way back stays open
    s.start_timer(TimerKind.TAILGATE, s.data.settings.timeouts.tailgate_s)
    _phase(s, Phase.TAILGATE_HOLD)


def door_closed_in_passage(s: Step, door: Door) -> None:
    phase = s.active.phase
    if phase is Phase.ENTRY_CLOSING and door is Door.ENTRY:
        _entry_shut(s)
    elif phase is Phase.ABORT_CLOSING and not s.data.closing:
        _complete(s)


def passage_timeout(s: Step, kind: TimerKind) -> None:
    phase = s.active.phase
    assert phase is not None            # passage timers run only during a passage
    if kind is TimerKind.ENTER and phase is Phase.ENTERING:
        s.exception(ExceptionKind.NOT_ENTERED)
        _abort(s)
    elif kind in (TimerKind.EXIT, TimerKind.TAILGATE):
        # somebody is still inside: an officer has to come; the doors stay as they are
        s.alarm(AlarmKind.TRAVELLER_LINGERING, phase.value)
        s.exception(ExceptionKind.STAGE_TIMEOUT, f"passage {phase.value}")


def _complete(s: Step) -> None:
    txn = s.active
    if ExceptionKind.TAILGATING.value in txn.exceptions:
        outcome = CrossingOutcome.TAILGATING
    elif txn.phase is Phase.EXIT_CLOSING:
        outcome = CrossingOutcome.PASSED
    else:
        outcome = CrossingOutcome.NOT_ENTERED
    end(s, outcome)
    settle(s)
