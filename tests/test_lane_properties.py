"""Random event sequences: the doors open only for a PASS-decided passage, an emergency, a retreat
(entry) or an officer override, every begun transaction ends with exactly one crossing record, every
officer override is answered exactly once, and nothing raises."""
from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers.gate.layout import Door, LayoutKind
from firmware_app.lane import events as ev
from firmware_app.lane.actions import (
    EndTransaction,
    JournalBegin,
    OpenDoor,
    OverrideAnswered,
    RecordCrossing,
    ReleaseDoors,
)
from firmware_app.lane.state import State
from tests.lane_helpers import Lane, door_invariant_holds, event_catalogue

NAMES = sorted(event_catalogue(Lane()))
# weight the happy path so random runs reach passage often
HAPPY = ["doc_valid", "chip_ok", "face_ok", "decision_pass", "officer_yes", "entry_opened", "presence_1",
         "entry_closed", "exit_opened", "presence_0", "exit_closed"]
names = st.one_of(st.sampled_from(NAMES), st.sampled_from(HAPPY))
_NO_TXN = {State.IDLE, State.REFER, State.OUT_OF_SERVICE, State.CLOSED, State.EMERGENCY}


def _check(lane: Lane) -> None:
    data = lane.data
    assert door_invariant_holds(data)
    exit_opens = [a for a in lane.last if a == OpenDoor(Door.EXIT)]
    if exit_opens:                              # the exit is commanded open only into a PASS passage
        if data.override is not None and Door.EXIT in data.override.doors:      # ... or by an officer
            assert data.txn is None and not data.retreat
        else:
            # the passage at the front, or (mantrap) the one just handed off behind the lane to walk
            # out while the next traveller is checked (lane/leaving.py): the exit serves only that one
            txn = data.leaving or data.txn
            assert txn is not None and txn.decision.passed and not data.retreat
            assert all(a.passage == txn.txn_id for a in exit_opens)
    assert (ReleaseDoors() in lane.last) <= data.emergency
    if data.override is not None:               # officer override: no traveller, no retreat, no emergency
        assert data.txn is None and not data.retreat and not data.emergency and not data.faults
    if data.retreat:                            # a retreat: entry free, exit locked, mantrap only
        assert data.settings.layout is LayoutKind.MANTRAP and data.commanded_open == {Door.ENTRY}
    assert (data.txn is None) == (data.state in _NO_TXN)
    if data.emergency:
        assert data.state is State.EMERGENCY and data.commanded_open == frozenset(data.settings.doors)
    begun, ended = len(lane.of(JournalBegin)), len(lane.of(EndTransaction))
    running = (data.txn is not None) + (data.leaving is not None)      # checked, and walking out behind
    assert begun == ended + running and len(lane.of(RecordCrossing)) == ended


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(LayoutKind)), st.lists(names, max_size=60), st.lists(st.floats(0, 30), max_size=60))
@example(LayoutKind.MANTRAP, ["doc_valid", "chip_bad", "decision_pass", "presence_1"], [])     # walks out behind
def test_random_sequences_keep_the_invariants(layout, sequence, gaps):
    lane = Lane(layout=layout)
    for i, name in enumerate(sequence):
        lane.send(event_catalogue(lane)[name], seconds=gaps[i] if i < len(gaps) else 1.0)
        _check(lane)


OVERRIDE = ["override_open_entry", "override_open_all", "override_close_all", "timeout_override", "presence_0",
            "presence_1", "presence_2", "emergency_on", "emergency_off", "tamper_on", "tamper_off", "fault_camera",
            "restored_camera", "entry_opened", "entry_closed", "exit_opened", "exit_closed", "timeout_retreat"]
override_names = st.one_of(st.sampled_from(OVERRIDE), st.sampled_from(HAPPY))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(LayoutKind)), st.lists(override_names, max_size=50))
def test_officer_overrides_keep_the_invariants_and_are_answered_once(layout, sequence):
    lane = Lane(layout=layout)
    for name in sequence:
        event = event_catalogue(lane)[name]
        lane.send(event)
        _check(lane)
        answers = [a for a in lane.last if isinstance(a, OverrideAnswered)]
        assert len(answers) == isinstance(event, ev.OfficerOverride)
        if answers and answers[0].accepted and event.action is ev.OverrideAction.OPEN:
            assert lane.data.override is not None and lane.data.commanded_open <= lane.data.override.doors


@settings(max_examples=60, deadline=None)
@given(st.lists(names, max_size=40))
def test_emergency_releases_every_door_at_once_from_anywhere(prefix):
    lane = Lane()
    for name in prefix:
        lane.send(event_catalogue(lane)[name])
    if lane.data.emergency:
        lane.send(event_catalogue(lane)["emergency_off"])
    actions = lane.send(event_catalogue(lane)["emergency_on"])
    assert lane.state is State.EMERGENCY
    assert any(type(a).__name__ == "ReleaseDoors" for a in actions)
    assert lane.data.txn is None
