"""Begin, end and void a transaction; settle the lane into its resting state afterwards."""
from __future__ import annotations

from datetime import datetime

from drivers.gate.layout import Door
from firmware_app.policy import Decision, LaneMode, Outcome

from .actions import CancelStages, EndTransaction, ExceptionKind, JournalBegin, RecordCrossing
from .record import CrossingRecord, DocumentFields, PassageFields
from .state import CrossingOutcome, State, Transaction
from .step import Step
from .views import retreat_view, state_view

_DECISION_OUTCOMES = {Outcome.REFER: CrossingOutcome.REFERRED, Outcome.REJECT: CrossingOutcome.REJECTED,
                      Outcome.PASS: CrossingOutcome.PASSED}


def begin(s: Step) -> None:
    count = s.data.txn_count + 1
    txn_id = f"{s.data.settings.boot_id}-{count:06d}"
    s.set(txn=Transaction(txn_id, s.now, s.data.mode), txn_count=count)
    s.mark("document")
    s.set(more_time=(), assistance=False)
    s.emit(JournalBegin(txn_id, s.now))


def outcome_of(decision: Decision) -> CrossingOutcome:
    return _DECISION_OUTCOMES[decision.outcome]


def end(s: Step, outcome: CrossingOutcome) -> None:
    """Record the crossing, journal the end, drop the transaction (and its biometric data)."""
    s.mark("end")
    txn = s.active
    s.emit(RecordCrossing(build_record(s, txn, outcome)), EndTransaction(txn.txn_id, outcome.value))
    s.cancel_timers()
    s.set(txn=None, more_time=(), pass_held=False)   # an officer called by the traveller is still coming


def void(s: Step, why: ExceptionKind, detail: str = "") -> None:
    """Stop whatever the transaction was doing, lock the doors, record it as voided."""
    if s.txn is None:
        return
    s.emit(CancelStages(s.active.txn_id))
    s.exception(ExceptionKind.TRANSACTION_VOIDED, f"{why.value} {detail}".strip())
    end(s, CrossingOutcome.VOIDED)


def resting_state(s: Step) -> State:
    data = s.data
    if data.emergency:
        return State.EMERGENCY
    walking_out = leaving_doors(s)
    if data.faults or (data.sensed_open - shutting_behind(s) - walking_out) or (data.commanded_open - walking_out):
        return State.OUT_OF_SERVICE     # includes doors not yet confirmed shut
    return State.CLOSED if data.mode is LaneMode.CLOSED else State.IDLE


def shutting_behind(s: Step) -> frozenset[Door]:
    """The last door of a finished passage while it shuts on time behind the traveller who left."""
    door, data = s.data.closing_behind, s.data
    if door is None or door not in data.closing or door in data.held_open_alarmed or data.presence:
        return frozenset()
    return frozenset({door})


def leaving_doors(s: Step) -> frozenset[Door]:
    """The exit of a mantrap, open for the traveller walking out behind the lane (leaving.py)."""
    return frozenset({Door.EXIT}) if s.data.leaving is not None else frozenset()


def settle(s: Step) -> None:
    """With no transaction running: go to the resting state and show it (only on a change)."""
    if s.txn is not None:
        return
    state = resting_state(s)
    if state is not s.data.state:
        s.to(state)
        if state in (State.IDLE, State.CLOSED):
            s.set(more_time=(), assistance=False)     # the next traveller starts afresh
        s.show(retreat_view() if s.data.retreat else state_view(state))


def build_record(s: Step, txn: Transaction, outcome: CrossingOutcome) -> CrossingRecord:
    settings = s.data.settings
    return CrossingRecord(
        transaction_id=txn.txn_id, device_id=settings.device_id, direction=settings.direction,
        mode=txn.mode.value, outcome=outcome.value, started_at=txn.started_at, ended_at=s.now,
        document=DocumentFields.from_mrz(txn.mrz) if txn.mrz is not None else None,
        chip=txn.chip, face=txn.face, decision=txn.decision, officer_id=txn.officer_id,
        passage=_passage_fields(txn, outcome), timings_ms=_timings(txn), exceptions=txn.exceptions,
        officer_decision=txn.officer_verdict)


def _passage_fields(txn: Transaction, outcome: CrossingOutcome) -> PassageFields:
    if txn.phase is None:
        return PassageFields(False, None, txn.max_presence)
    single = outcome is CrossingOutcome.PASSED and txn.max_presence == 1 and txn.entered
    return PassageFields(True, single, txn.max_presence)


def _timings(txn: Transaction) -> dict[str, float]:
    """Milliseconds spent in each step, from its mark to the next one (never negative)."""
    timings: dict[str, float] = {}
    for start, stop in zip(txn.marks, txn.marks[1:]):
        timings[start[0]] = timings.get(start[0], 0.0) + _elapsed_ms(start, stop)
    if txn.marks:
        timings["total"] = _elapsed_ms(txn.marks[0], txn.marks[-1])
    return timings


_Mark = tuple[str, datetime, float | None]    # Transaction.marks: step, wall time, monotonic reading


def _elapsed_ms(start: _Mark, stop: _Mark) -> float:
    """On the monotonic clock when both marks have it; wall time (a step back counts as 0) otherwise."""
    if start[2] is not None and stop[2] is not None:
        seconds: float = stop[2] - start[2]
    else:
        seconds = (stop[1] - start[1]).total_seconds()
    return round(max(seconds, 0.0) * 1000, 1)
