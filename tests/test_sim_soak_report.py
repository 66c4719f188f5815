"""The soak's figures (simulator/soak.py) and the process probe, without running a soak."""
from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from simulator.memory_probe import ChildrenProbe, HeapProbe, ProcessGone, ProcessProbe
from simulator.soak import SoakSample, SoakTally, growth, slope_per_1000, soak_lines, soak_ok, soak_report


def _samples(total: int, every: int, mb_per_traveller: float) -> list[SoakSample]:
    return [SoakSample(n, n * 0.5, 300.0 + mb_per_traveller * n, n * 1.2) for n in range(0, total + 1, every)]


def test_a_flat_run_is_flat_and_a_leak_is_not():
    flat = growth(_samples(5000, 25, 0.0), 5000)
    assert flat["flat"] and flat["slope_mb_per_1000"] == pytest.approx(0.0)
    assert flat["slope_window_travellers"] == 4000 and flat["edge_travellers"] == 1000
    leak = growth(_samples(5000, 25, 0.002), 5000)       # 2 kB per traveller
    assert not leak["flat"] and leak["slope_mb_per_1000"] == pytest.approx(2.0)
    assert leak["last_minus_first_mb"] == pytest.approx(8.0, abs=0.2)


def test_a_short_run_scales_its_windows():
    figures = growth(_samples(300, 10, 0.0), 300)
    assert figures["slope_window_travellers"] == 240 and figures["edge_travellers"] == 60


def test_a_window_without_samples_says_so():
    samples = [SoakSample(n, 0.0, 300.0, 0.0, appliance_heap_mb=40.0 if n % 50 == 0 else None)
               for n in range(0, 151, 10)]
    figures = growth(samples, 150, lambda s: s.appliance_heap_mb)
    assert figures["first_median_mb"] is None and figures["last_minus_first_mb"] is None


def test_slope_of_nothing_is_zero():
    assert slope_per_1000([]) == 0.0 and slope_per_1000([(5, 1.0), (5, 2.0)]) == 0.0


def _delivery(crossings: dict[str, int], exactly_once: bool = True):
    return SimpleNamespace(crossings_per_transaction=crossings, exactly_once=exactly_once)


def test_the_report_has_its_figures_and_checks_exactly_once():
    tally = SoakTally(asked=3, done=3, as_expected=3, samples=_samples(3, 1, 0.0))
    tally.delivery = _delivery({"a": 1, "b": 1, "c": 1})
    report = soak_report(tally, 6.0, "self", heap=False)
    assert soak_ok(report) and report["bmis"]["exactly_once"]
    assert set(report["rss"]) >= {"pid", "scope", "start_mb", "end_mb", "slope_mb_per_1000", "first_median_mb",
                                  "last_median_mb", "flat"}
    assert report["cpu_per_traveller_s"] == pytest.approx(1.2)
    assert "exactly once: yes" in "\n".join(soak_lines(report))
    tally.delivery = _delivery({"a": 1, "b": 2, "c": 1})       # a duplicate
    assert not soak_ok(soak_report(tally, 6.0, "self", heap=False))
    tally.delivery = _delivery({"a": 1, "b": 1})               # a lost crossing
    assert not soak_ok(soak_report(tally, 6.0, "self", heap=False))


def test_the_probe_reads_another_process_by_pid_and_knows_when_it_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        probe = ProcessProbe(child.pid)
        for _ in range(100):
            if probe.rss_mb() > 60:
                break
            subprocess.run(["sleep", "0.05"])
        assert probe.rss_mb() > 60 and probe.cpu_s() >= 0.0
        assert ProcessProbe().rss_mb() != probe.rss_mb()
        children = ChildrenProbe(os.getpid())
        assert child.pid in children.children() and children.rss_mb() > 60
        assert ChildrenProbe(child.pid).rss_mb() == 0.0
    finally:
        child.kill()
        child.wait()
    with pytest.raises(ProcessGone):
        ProcessProbe(child.pid).rss_mb()


def test_the_heap_probe_counts_only_the_appliance_code():
    heap = HeapProbe(patterns=(f"*{os.sep}test_sim_soak_report.py",)).start()
    try:
        held = [bytearray(1 << 20) for _ in range(4)]
        assert heap.appliance_mb() >= 4.0 and heap.traced_mb() >= 4.0
        assert HeapProbe(patterns=("*/no_such_module/*",)).appliance_mb() < 1.0
        del held
    finally:
        heap.stop()


def test_the_warm_up_is_left_out_of_the_slope_and_the_series_is_every_500():
    """A fast rise while caches and models warm, then flat: flat after the warm-up."""
    samples = [SoakSample(n, 0.0, 300.0 + min(n, 400) * 0.05, 0.0) for n in range(0, 2001, 25)]
    figures = growth(samples, 2000, warmup=400)
    assert figures["flat"] and figures["slope_mb_per_1000"] == pytest.approx(0.0)
    assert figures["start_mb"] == 300.0 and figures["after_warmup_mb"] == pytest.approx(320.0)
    assert not growth(samples, 2000, warmup=0)["flat"]
    tally = SoakTally(asked=2010, done=2010, as_expected=2010, samples=samples + [SoakSample(2010, 0.0, 320.0, 0.0)])
    for sample in tally.samples:
        sample.others_mb["gate-safety"] = 40.0 + sample.done * 0.01        # 10 MB per 1,000
    report = soak_report(tally, 1.0, 4242, heap=False, warmup=400, scope="gate-app alone")
    assert not report["other_rss"]["gate-safety"]["flat"]
    assert [done for done, _ in report["rss"]["series"]] == [0, 500, 1000, 1500, 2000, 2010]
    text = "\n".join(soak_lines(report))
    assert "after the warm-up (400 travellers) 320.0 MB" in text and "RSS per 500 travellers: 0: 300.0" in text
    assert "RSS of gate-safety: start 40.0 MB, after the warm-up 44.0 MB; growth: slope +10.00" in text
    assert report["other_rss"]["gate-safety"]["series"][:2] == [(0, 40.0), (500, 45.0)]
    assert "  gate-safety per 500 travellers: 0: 40.0, 500: 45.0, 1000: 50.0" in text
    tally.samples[-1].others_mb.clear()                 # not sampled at the end: its last sample closes it
    assert soak_report(tally, 1.0, 4242, heap=False, warmup=400)["other_rss"]["gate-safety"]["series"][-1] == \
        (2000, 60.0)


class _Store:
    """The BMIS consumer's message store as the own-process runner polls it; the whole-store read
    (what a 5,000-traveller soak must not do on every poll) is refused."""

    def __init__(self):
        self.rows: list[dict] = []
        self.read = 0

    def add(self, txn_id: str) -> None:
        self.rows.append({"msg_id": f"m{len(self.rows)}", "data": {"transaction_id": txn_id}})

    def messages_after(self, rowid: int, kind=None, device_id=None):
        self.read += len(self.rows) - rowid
        return self.rows[rowid:], len(self.rows)

    def messages(self, kind=None, device_id=None):
        raise AssertionError("the whole store read on a poll")


def test_the_own_process_runner_reads_only_new_rows_and_skips_known_crossings():
    from simulator.gate_app_run import GateAppRunner
    store = _Store()
    runner = GateAppRunner(SimpleNamespace(consumer=store), None)
    for n in range(500):
        store.add(f"t{n}")
    runner._fresh_crossings()               # at a traveller's start: what is there is known
    assert runner._new_crossing() is None
    store.add("t7")                         # a re-delivered old crossing is not this traveller's
    store.add("new")
    assert runner._new_crossing()["data"]["transaction_id"] == "new"
    for _ in range(100):
        assert runner._new_crossing() is None
    assert store.read == 502                # each row read once, not once per poll
