"""Every lane state x every event (faults, stale answers and sensor noise included), table-driven.

Each row reaches a state through real events, sends one event, and checks the next state and the
door invariant. Unlisted pairs must leave the state unchanged.
"""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door
from firmware_app.lane import events as ev
from firmware_app.lane.actions import RecordCrossing
from firmware_app.lane.state import State, TimerKind
from firmware_app.policy import LaneMode
from tests.lane_helpers import PASS, REFER, Lane, door_invariant_holds, event_catalogue, good_chip, good_face, mrz

S = State


def _to_decide(lane: Lane) -> None:
    lane.send(ev.DocumentPresented(mrz()))
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    lane.send(ev.FaceResult(lane.txn_id, good_face()))


def _to_passage(lane: Lane) -> None:
    _to_decide(lane)
    lane.send(ev.DecisionMade(lane.txn_id, PASS))
    lane.send(ev.DoorOpened(Door.ENTRY))


def _to_entry_closing(lane: Lane) -> None:
    _to_passage(lane)
    lane.send(ev.PresenceChanged(1))


def _to_exiting(lane: Lane) -> None:
    _to_entry_closing(lane)
    lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.DoorOpened(Door.EXIT))


SETUPS = {
    "idle": (None, lambda lane: None, S.IDLE),
    "document": (None, lambda lane: lane.send(ev.DocumentUnreadable()), S.DOCUMENT),
    "chip": (None, lambda lane: lane.send(ev.DocumentPresented(mrz())), S.CHIP),
    "face": (None, lambda lane: (lane.send(ev.DocumentPresented(mrz())),
                                 lane.send(ev.ChipResult(lane.txn_id, good_chip()))), S.FACE),
    "decide": (None, _to_decide, S.DECIDE),
    "officer": (LaneMode.ASSISTED, lambda lane: (_to_decide(lane), lane.send(ev.DecisionMade(lane.txn_id, PASS))),
                S.OFFICER_REVIEW),
    "passage": (None, _to_passage, S.PASSAGE),
    "entry_closing": (None, _to_entry_closing, S.CLOSING),
    # the exit open for the traveller inside: they walk out behind the lane, which takes the next document
    "exiting": (None, _to_exiting, S.IDLE),
    "refer": (None, lambda lane: (_to_decide(lane), lane.send(ev.DecisionMade(lane.txn_id, REFER))), S.REFER),
    "out_of_service": (None, lambda lane: lane.send(ev.TamperOn()), S.OUT_OF_SERVICE),
    "closed": (None, lambda lane: lane.send(ev.ModeChanged(LaneMode.CLOSED)), S.CLOSED),
    "emergency": (None, lambda lane: lane.send(ev.EmergencyOn()), S.EMERGENCY),
    "tailgate_hold": (None, lambda lane: (_to_entry_closing(lane), lane.send(ev.PresenceChanged(2))), S.PASSAGE),
    # the traveller is out: the crossing is done and the lane takes the next document while the exit shuts
    "exit_closing": (None, lambda lane: (_to_exiting(lane), lane.send(ev.PresenceChanged(0))), S.IDLE),
    "abort_closing": (None, lambda lane: (_to_passage(lane), lane.fire(TimerKind.ENTER)), S.CLOSING),
    # a tamper alarm with the traveller between the doors: exit locked, entry released for retreat
    "retreat": (None, lambda lane: (_to_entry_closing(lane), lane.send(ev.TamperOn())), S.OUT_OF_SERVICE),
    # an officer override holds the entry open: out of service for travellers
    "override": (None, lambda lane: lane.send(event_catalogue(lane)["override_open_entry"]), S.OUT_OF_SERVICE),
}

EVENTS = sorted(event_catalogue(Lane()))
OOS, PRE = S.OUT_OF_SERVICE, ("document", "chip", "face", "decide", "officer")
RESTING = ("idle", "exit_closing", "refer", "closed")
PASSAGES = ("passage", "entry_closing", "exiting", "tailgate_hold", "exit_closing", "abort_closing")

# (setup, event) -> expected state; everything not listed keeps the setup's state.
EXPECTED: dict[tuple[str, str], State] = {}


def _rows(setups, events, state):
    for setup in setups:
        for event in events:
            EXPECTED[(setup, event)] = state


# lane-wide: emergency, tamper, faults, forced doors
_rows([s for s in SETUPS if s != "emergency"], ["emergency_on"], S.EMERGENCY)
_rows([s for s in SETUPS if s not in ("emergency", "out_of_service", "retreat")],
      ["tamper_on", "fault_gate", "fault_journal"], OOS)
_rows(RESTING + PRE, ["fault_camera", "entry_opened", "exit_opened"], OOS)
# never trapped: anybody inside a mantrap with no passage running gets the entry released
_rows(["idle", "exit_closing", "closed"], ["presence_1", "presence_2"], OOS)
_rows(["passage", "entry_closing"], ["exit_opened"], OOS)
_rows(["exiting"], ["entry_opened"], OOS)
_rows(["emergency"], ["emergency_off"], S.IDLE)
_rows(["out_of_service"], ["tamper_off"], S.IDLE)
# documents and stages
_rows(["idle", "exit_closing", "exiting"], ["doc_valid"], S.CHIP)
_rows(["idle", "exit_closing", "exiting"], ["doc_invalid", "doc_unreadable"], S.DOCUMENT)
_rows(["document"], ["doc_valid"], S.CHIP)
_rows(["document"], ["timeout_state"], S.DECIDE)
_rows(["chip", "face", "decide", "officer"], ["doc_removed"], S.IDLE)
_rows(["chip"], ["chip_ok"], S.FACE)
_rows(["chip"], ["chip_bad", "chip_failed", "timeout_state"], S.DECIDE)
_rows(["face"], ["face_ok", "face_nomatch", "face_failed", "timeout_state"], S.DECIDE)
_rows(["decide"], ["decision_pass"], S.PASSAGE)
_rows(["decide"], ["decision_refer", "decision_failed", "timeout_state"], S.REFER)
_rows(["officer"], ["officer_yes"], S.PASSAGE)
_rows(["officer"], ["officer_no", "officer_reject", "timeout_state"], S.REFER)
_rows(["refer"], ["doc_removed", "timeout_state"], S.IDLE)
# modes
_rows(["idle", "exit_closing", "exiting"], ["mode_closed"], S.CLOSED)
_rows(["closed"], ["mode_normal", "mode_assisted"], S.IDLE)
# passage
_rows(["passage"], ["presence_1", "timeout_state"], S.CLOSING)
_rows(["entry_closing"], ["presence_2"], S.PASSAGE)
_rows(["entry_closing"], ["entry_closed"], S.IDLE)      # exit opened for them: the lane is free for the next
_rows(["exiting"], ["presence_0"], S.IDLE)
_rows(["exiting"], ["presence_2"], S.PASSAGE)          # a second person: the passage back to the front
_rows(["exiting"], ["fault_camera"], OOS)              # no next traveller; the one walking out goes on
_rows(["tailgate_hold"], ["presence_0"], S.CLOSING)            # both stepped back: entry closes
_rows(["tailgate_hold", "abort_closing"], ["exit_opened"], OOS)  # the exit forced
_rows(["exit_closing"], ["entry_opened"], OOS)                  # the entry forced behind them
_rows(["exit_closing"], ["exit_closed"], S.IDLE)
_rows(["exit_closing"], ["exit_opened"], S.IDLE)      # the exit never reported shut: a repeated report
_rows(["abort_closing"], ["entry_closed"], S.IDLE)
# officer override: refused in a passage, an emergency, a retreat or a fault; voids a transaction
# still being checked; ends (doors secured) when the officer closes or the hold expires
_rows(RESTING + PRE, ["override_open_entry", "override_open_all"], OOS)
_rows(["override"], ["override_close_all", "timeout_override"], S.IDLE)


@pytest.mark.parametrize("event_name", EVENTS)
@pytest.mark.parametrize("setup_name", list(SETUPS))
def test_state_x_event(setup_name, event_name):
    mode, setup, reached = SETUPS[setup_name]
    lane = Lane(mode=mode)
    setup(lane)
    assert lane.state is reached
    lane.send(event_catalogue(lane)[event_name])
    assert lane.state is EXPECTED.get((setup_name, event_name), reached)
    assert door_invariant_holds(lane.data)
    begun = sum(type(a).__name__ == "JournalBegin" for a in lane.actions)
    ended = sum(type(a).__name__ == "EndTransaction" for a in lane.actions)
    assert begun == ended + (lane.data.txn is not None) + (lane.data.leaving is not None)
    assert len(lane.of(RecordCrossing)) == ended


def test_the_table_names_only_known_setups_and_events():
    assert {s for s, _ in EXPECTED} <= set(SETUPS) and {e for _, e in EXPECTED} <= set(EVENTS)


def test_timeout_helper_reaches_the_running_timer():
    lane = Lane()
    _to_passage(lane)
    assert event_catalogue(lane)["timeout_state"].kind is TimerKind.ENTER
