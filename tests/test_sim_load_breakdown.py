"""The lane cycle's breakdown (simulator/load_breakdown.py) from made-up marks and gate events."""
from __future__ import annotations

import pytest

from simulator.load_breakdown import (
    CYCLE_PARTS,
    TAIL_PARTS,
    WAIT_PARTS,
    breakdown_lines,
    lane_breakdown,
    summarise_breakdown,
)
from simulator.scenario_run import TravellerOutcome


def _traveller(set_off: float, wait: float, front_s: float = 0.85, offset: float = 0.0) -> TravellerOutcome:
    """Approach 2.5, waiting `wait`, placing 1.5, machine 1.4, entry door 0.8, step in 1.0; the runner
    through with them `front_s` after they are in (the entry shut behind them)."""
    marks = {"set_off": set_off, "arrived": set_off + 2.5}
    marks["place_start"] = marks["arrived"] + wait
    marks["placed"] = marks["place_start"] + 1.5
    marks["decided"] = marks["placed"] + 1.4
    marks["entry_open"] = marks["decided"] + 0.8
    marks["entered"] = marks["entry_open"] + 1.0
    marks["front_done"] = marks["entered"] + front_s
    marks["offset"] = offset
    outcome = TravellerOutcome("t", "passed", (), "-", {}, 5.0, "passed", expected_reasons=())
    outcome.marks, outcome.cycle_s = marks, marks["entered"] - set_off
    return outcome


def _tail_events(entered: float) -> list[tuple[float, str]]:
    """Entry shut 0.8 after they are in, exit open 0.8 later, out 1.5 later, exit shut 0.8 later."""
    return [(entered + 0.8, "entry_shut"), (entered + 1.6, "exit_open"), (entered + 3.1, "inside_0"),
            (entered + 3.9, "exit_shut")]


def test_the_parts_add_up_and_the_waiting_is_cut_into_the_previous_front_and_the_hand_over():
    first = _traveller(0.0, 0.0, front_s=3.0)      # a lane that served the first one for 3 s after they were in
    second = _traveller(first.marks["entered"], 0.9)
    rows = lane_breakdown([first, second], _tail_events(first.marks["entered"]))
    assert len(rows) == 1
    row = rows[0]
    assert sum(row["parts"].values()) == pytest.approx(second.cycle_s)
    assert row["parts"]["waiting"] == pytest.approx(0.9)
    # arrived 2.5 s after the first was in: 0.5 s more of the lane's front, then 0.4 s of the bench
    assert row["waited_on"]["previous_front"] == pytest.approx(0.5)
    assert row["waited_on"]["bench_hand_over"] == pytest.approx(0.4)
    assert sum(row["waited_on"].values()) == pytest.approx(row["parts"]["waiting"])
    assert row["tail"]["entry_closing"] == pytest.approx(0.8) and row["tail"]["walk_out"] == pytest.approx(1.5)


def test_a_document_read_while_the_previous_traveller_walks_out_shows_as_overlap():
    first = _traveller(0.0, 0.0)
    second = _traveller(first.marks["entered"], 0.0)
    row = lane_breakdown([first, second], _tail_events(first.marks["entered"]))[0]
    # placed 4.0 s after the first was in, decided at 5.4: the exit was shutting from 3.1 to 3.9 s
    assert row["overlapped"]["exit_closing"] == 0.0 and row["overlapped"]["walk_out"] == 0.0
    early = _traveller(first.marks["entered"] - 1.0, 0.0)      # placed 3.0 s after: 0.1 s of the walk
    row = lane_breakdown([first, early], _tail_events(first.marks["entered"]))[0]
    assert row["overlapped"]["walk_out"] == pytest.approx(0.1)
    assert row["overlapped"]["exit_closing"] == pytest.approx(0.8)


def test_the_summary_has_every_part_and_prints():
    first = _traveller(0.0, 0.0)
    second = _traveller(first.marks["entered"], 0.5)
    events = _tail_events(first.marks["entered"])
    summary = summarise_breakdown(lane_breakdown([first, second], events))
    assert summary["travellers"] == 1
    assert set(summary["parts"]) == set(CYCLE_PARTS) and set(summary["waited_on"]) == set(WAIT_PARTS)
    assert set(summary["previous_tail"]) == set(TAIL_PARTS) == set(summary["overlapped"])
    text = "\n".join(breakdown_lines(summary))
    assert "= cycle" in text and "walk_out" in text and "hand-over included" in text
    assert "no two passages" in breakdown_lines(summarise_breakdown([]))[0]


def test_a_traveller_who_did_not_walk_through_starts_no_row():
    referred = _traveller(0.0, 0.0)
    del referred.marks["entered"]
    assert lane_breakdown([referred, _traveller(5.0, 0.0)], []) == []
