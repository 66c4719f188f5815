"""`gatesim load` without services: the seeded traveller mix, the lane limits, percentiles, and the
reports (JSON, JUnit XML, summary with the targets, PNG charts) from a run's results."""
from __future__ import annotations

import json
import random
from xml.etree import ElementTree as ET

import pytest

from simulator.load import (
    LaneRun,
    LoadError,
    Sample,
    check_lanes,
    generate_travellers,
    load_people,
    split,
    travellers_for,
)
from simulator.load_report import ok, percentile, summarise, summary_text, write_reports
from simulator.scenario_run import TravellerOutcome
from simulator.timing import TimingModel


def test_the_mix_is_seeded_pace_extended_and_expected():
    first = generate_travellers(200, ["hopper", "collins"], random.Random(3))
    assert first == generate_travellers(200, ["hopper", "collins"], random.Random(3))
    assert all(t.chip.value == "pace" and t.extended_length and t.expect for t in first)
    kinds = {t.expect for t in first}
    assert {"passed", "rejected", "referred"} <= kinds
    assert sum(t.expect == "passed" for t in first) > 150
    assert all(t.impostor != t.person for t in first if t.impostor)
    alone = generate_travellers(50, ["hopper"], random.Random(3))
    assert not any(t.impostor for t in alone)                     # one person: no impostors


def test_the_shared_people_are_preferred_when_present():
    assert load_people({"person01", "person03", "person02", "hopper"}) == ["person01", "person03"]
    assert load_people({"hopper", "collins"}) == ["collins", "hopper"]


def test_lanes_are_bounded_and_shared_out():
    check_lanes(2, 10)
    check_lanes(8, 10)                                   # more than two: groups of two (load_groups)
    for lanes in (0, 9):
        with pytest.raises(LoadError, match="--lanes must be 1 to 8"):
            check_lanes(lanes, 10)
    with pytest.raises(LoadError):
        check_lanes(1, 0)
    assert split(list(range(5)), 2) == [[0, 2, 4], [1, 3]]
    assert split(list(range(7)), 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_hours_bound_the_travellers_to_generate():
    assert travellers_for(None, 40, 2) == 40
    assert travellers_for(1.0, 40, 2) == 40                              # --travellers caps an --hours run
    assert travellers_for(1.0, None, 2) == 2 * 1800                      # a lane cannot cycle in under 2 s
    for hours in (0.0, -1.0, 24.5):
        with pytest.raises(LoadError, match="--hours"):
            travellers_for(hours, None, 1)
    with pytest.raises(LoadError, match="--travellers N, --hours H"):
        travellers_for(None, None, 1)


def test_an_hours_run_passes_when_each_lane_reached_its_hours():
    runs = _runs([_outcome(n, cycle=1000.0) for n in range(4)])
    report = summarise(runs, _Sampler(), 10.0, TimingModel(), asked=10, hours=1.0)
    assert not ok(report)                                  # 6 of 10 never walked, and no lane reached 1 h
    runs[0].reached_hours = True
    report = summarise(runs, _Sampler(), 10.0, TimingModel(), asked=10, hours=1.0)
    assert report["hours"]["modelled_s"] == [4000.0] and ok(report)
    assert "hours: 1 per lane (modelled time); lane 1: 1.11 h" in summary_text(report)
    runs[0].outcomes[1] = _outcome(1, expected="rejected", cycle=1000.0)
    assert not ok(summarise(runs, _Sampler(), 10.0, TimingModel(), asked=10, hours=1.0))


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([], 50) == 0.0 and percentile([7.0], 99) == 7.0


class _Delivery:
    def __init__(self, crossings: int, once: bool = True):
        self.exactly_once, self.stored, self.duplicates_removed = once, crossings + 3, 0
        self.crossings_per_transaction = {f"t{n}": 1 for n in range(crossings)}
        self.seq_gaps, self.pending_at_gate = [], 0


def _outcome(n: int, expected: str = "passed", machine: float = 1.2, cycle: float = 7.5):
    return TravellerOutcome(f"generated {n}", "passed", (), "please_proceed",
                            {"chip": 800.0, "face": 200.0, "passage": 4000.0}, 5.0, expected,
                            machine_s=machine, cycle_s=cycle, expected_reasons=())


def _runs(outcomes):
    run = LaneRun(1, outcomes, [float(n) for n in range(len(outcomes))], [0.5] * len(outcomes))
    run.delivery = _Delivery(len(outcomes))
    return [run]


class _Sampler:
    def __init__(self):
        self.samples = [Sample(0.0, 300.0, 1.0, 0), Sample(5.0, 320.0, 4.0, 2), Sample(9.0, 321.0, 6.0, 4)]


def test_the_reports_say_what_was_measured_and_compare_the_targets(tmp_path):
    runs = _runs([_outcome(n) for n in range(3)] + [_outcome(3, expected="rejected", machine=2.5, cycle=9.0)])
    report = summarise(runs, _Sampler(), 30.0, TimingModel(), asked=4)
    assert report["travellers"] == {"asked": 4, "done": 4, "as_expected": 3}
    assert report["steps_s"]["chip"]["p50"] == pytest.approx(0.8)
    assert report["targets"]["machine_median_s"]["met"] and report["targets"]["cycle_median_s"]["met"]
    assert report["throughput"]["per_lane_per_hour_modelled"][0] == pytest.approx(3600 / 7.875)
    assert report["memory"]["growth_after_warmup_mb"] == pytest.approx(1.0)
    assert not ok(report)                                           # one traveller differs
    text = summary_text(report)
    assert "target machine time median: 1.20 s < 1.5 s: met" in text and "8-15 s" in text
    assert "lane 1 differs: generated 3: outcome passed, wanted rejected" in text and "real time:" in text
    written = write_reports(report, runs, tmp_path)
    assert json.loads((tmp_path / "load.json").read_text())["travellers"]["done"] == 4
    suite = ET.parse(tmp_path / "load-junit.xml").getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "1"
    for name in ("load-steps.png", "load-throughput.png", "load-rss.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and tmp_path / name in written


def test_a_lost_crossing_fails_the_run():
    runs = _runs([_outcome(n) for n in range(2)])
    runs[0].delivery = _Delivery(1)                               # two travellers, one record
    report = summarise(runs, _Sampler(), 10.0, TimingModel(), asked=2)
    assert not report["bmis_exactly_once"] and not ok(report)
