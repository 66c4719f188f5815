"""The lane cycle's breakdown (simulator/load_breakdown.py) from made-up marks and gate events."""
from __future__ import annotations

import pytest

from simulator.load_breakdown import CYCLE_PARTS, TAIL_PARTS, breakdown_lines, lane_breakdown, summarise_breakdown
from simulator.scenario_run import TravellerOutcome


def _traveller(set_off: float, wait: float, offset: float = 0.0) -> TravellerOutcome:
    """Approach 2.5, waiting `wait`, placing 1.5, machine 1.4, entry door 0.8, step in 1.0."""
    marks = {"set_off": set_off, "arrived": set_off + 2.5}
    marks["place_start"] = marks["arrived"] + wait
    marks["placed"] = marks["place_start"] + 1.5
    marks["decided"] = marks["placed"] + 1.4
    marks["entry_open"] = marks["decided"] + 0.8
    marks["entered"] = marks["entry_open"] + 1.0
    marks["done"] = marks["entered"] + 3.3
    marks["offset"] = offset
    outcome = TravellerOutcome("t", "passed", (), "-", {}, 5.0, "passed", expected_reasons=())
    outcome.marks, outcome.cycle_s = marks, marks["entered"] - set_off
    return outcome


def _tail_events(entered: float) -> list[tuple[float, str]]:
    """Entry shut 0.8 after they are in, exit open 0.8 later, out 1.5 later, lane idle at once."""
    return [(entered + 0.8, "entry_shut"), (entered + 1.6, "exit_open"), (entered + 3.1, "inside_0"),
            (entered + 3.1, "lane_idle"), (entered + 3.9, "exit_shut")]


def test_the_parts_add_up_and_the_waiting_is_put_on_the_previous_tail():
    first = _traveller(0.0, 0.0)
    second = _traveller(first.marks["entered"], 0.9)
    events = [(0.0, "lane_idle")] + _tail_events(first.marks["entered"])
    rows = lane_breakdown([first, second], events)
    assert len(rows) == 1
    row = rows[0]
    assert sum(row["parts"].values()) == pytest.approx(second.cycle_s)
    assert row["parts"]["waiting"] == pytest.approx(0.9)
    assert row["tail"]["entry_closing"] == pytest.approx(0.8) and row["tail"]["walk_out"] == pytest.approx(1.5)
    # the approach (2.5 s) hid the entry closing, the exit opening and 0.9 s of the walk out: the
    # waiting went on the rest of the walk (0.6 s) and on the bench's hand-over after the lane was idle
    assert row["waited_on"]["entry_closing"] == 0.0
    assert row["waited_on"]["walk_out"] == pytest.approx(0.6)
    assert sum(row["waited_on"].values()) == pytest.approx(0.9)


def test_the_summary_has_every_part_and_prints():
    first = _traveller(0.0, 0.0)
    second = _traveller(first.marks["entered"], 0.5)
    events = _tail_events(first.marks["entered"])
    summary = summarise_breakdown(lane_breakdown([first, second], events))
    assert summary["travellers"] == 1
    assert set(summary["parts"]) == set(CYCLE_PARTS) and set(summary["waited_on"]) == set(TAIL_PARTS)
    text = "\n".join(breakdown_lines(summary))
    assert "= cycle" in text and "walk_out" in text
    assert "no two passages" in breakdown_lines(summarise_breakdown([]))[0]


def test_a_traveller_who_did_not_walk_through_starts_no_row():
    referred = _traveller(0.0, 0.0)
    del referred.marks["entered"]
    assert lane_breakdown([referred, _traveller(5.0, 0.0)], []) == []
