"""The traveller between the doors while the next one is checked (mantrap only).

Once the entry has shut behind a PASS-decided traveller with exactly one person sensed inside and
the exit is opened for them, their passage goes on "behind" the lane (`LaneData.leaving`): the lane
takes the next traveller's document, chip, face and decision meanwhile. That saves the exit's
swing and the walk out from every lane cycle, and weakens nothing:
- one person at a time: the entry stays locked; a PASS for the next traveller waits until this one
  is out and the exit is confirmed shut (flow.apply_decision), and is referred when they linger
  past their exit timer;
- a referral of the next traveller locks the entry but leaves the exit to the one walking out
  (Step.secure_doors); it shuts behind them as after any passage;
- anything the passage rules must handle (a second person, a fault a passage does not survive,
  tamper, a forced door) voids the next traveller's checks and brings the passage back to the front,
  where passage.py and safety.py act as on any passage (never trapped: exit locked, entry released);
- an emergency voids both and releases every door.
"""
from __future__ import annotations

from dataclasses import replace

from drivers.gate.layout import Door

from .actions import AlarmKind, EndTransaction, ExceptionKind, RaiseAlarm, RecordCrossing, RecordException
from .lifecycle import build_record, settle, void
from .state import CrossingOutcome, Phase, State, TimerKind
from .step import Step
from .views import passage_view


def hand_off(s: Step) -> None:
    """The exit was just opened for the active passage: it goes on behind; the lane is free for
    the next document (the resting state leaves the exit to the traveller walking out)."""
    s.set(leaving=s.active, txn=None)
    settle(s)


def on_time(s: Step) -> bool:
    """Somebody is walking out behind the lane, within their exit timer."""
    return s.data.leaving is not None and s.data.timer_token(TimerKind.EXIT) is not None


def out(s: Step) -> None:
    """Out through the exit: their crossing is done; the exit shuts behind them, watched by its
    held-open timer (no door opens for the next traveller before it is confirmed shut)."""
    txn = s.data.leaving
    assert txn is not None              # called only with somebody walking out
    s.cancel_timer(TimerKind.EXIT)
    s.close_door(Door.EXIT)
    if not s.door_is_shut(Door.EXIT):
        s.set(closing_behind=Door.EXIT)
    done = replace(txn, phase=Phase.EXIT_CLOSING).mark("end", s.now, s.mono)
    s.emit(RecordCrossing(build_record(s, done, CrossingOutcome.PASSED)),
           EndTransaction(done.txn_id, CrossingOutcome.PASSED.value))
    s.set(leaving=None)
    settle(s)


def lingering(s: Step) -> None:
    """Past their exit timer: the officer is called, on their record (not the next traveller's)."""
    txn = s.data.leaving
    assert txn is not None
    s.set(leaving=txn.noted(ExceptionKind.STAGE_TIMEOUT.value))
    s.emit(RaiseAlarm(AlarmKind.TRAVELLER_LINGERING, txn.txn_id, Phase.EXITING.value),
           RecordException(ExceptionKind.STAGE_TIMEOUT, txn.txn_id, f"passage {Phase.EXITING.value}"))


def bring_back(s: Step) -> None:
    """The passage to the front again (no other transaction may be running)."""
    txn = s.data.leaving
    if txn is None:
        return
    assert s.txn is None                # the next traveller's checks were ended first
    s.set(txn=txn, leaving=None)
    s.to(State.PASSAGE)


def recall(s: Step, why: ExceptionKind, detail: str = "") -> None:
    """The passage rules must act: void the next traveller's checks, bring the passage back."""
    if s.data.leaving is None:
        return
    void(s, why, detail)
    bring_back(s)
    s.show(passage_view(s.active))


def void_all(s: Step, why: ExceptionKind, detail: str = "") -> None:
    """Void the running transaction and the one walking out (an emergency)."""
    void(s, why, detail)
    bring_back(s)
    void(s, why, detail)
