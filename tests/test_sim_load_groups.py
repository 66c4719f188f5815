"""`gatesim load` with more than two lanes, without services: the groups' raw results merged into
one report from every traveller's values (not from the groups' percentiles), the mount-namespace
commands the groups run in, and the refusal where no namespace can be had."""
from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import threading
import time
from argparse import Namespace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from simulator.cli import main as gatesim
from simulator.load import LaneRun, LoadError, Sample, shares_of, split
from simulator.load_groups import Group, Namespacing, child_argv, namespacing, plan, result_of, vpcd_ports
from simulator.load_merge import grouped, merge, raw_of, read_raw, runs_of, summed, write_raw
from simulator.load_report import ok, percentile, spread, summarise, summary_text, write_reports
from simulator.scenario_cmd import Delivery
from simulator.scenario_outcome import TravellerOutcome
from simulator.timing import TimingModel


def _outcome(lane: int, n: int, machine: float, cycle: float, outcome: str = "passed") -> TravellerOutcome:
    return TravellerOutcome(f"generated {n}", outcome, ("face_not_matched",) if outcome == "referred" else (),
                            "please_proceed", {"chip": machine * 700.0, "face": 30.0 + n}, 5.0, "passed",
                            msg_id=f"m{lane}-{n}", expected_reasons=(), officer=(None, None), machine_s=machine,
                            cycle_s=cycle, marks={"set_off": 1.0 * n, "offset": 0.5})


def _delivery(crossings: int, duplicated: bool = False) -> Delivery:
    per_txn = {f"t{n}": 1 for n in range(crossings)}
    if duplicated:
        per_txn["t0"] = 2
    return Delivery({"events/crossing": crossings}, crossings + 2, 0, 0, [], 0, per_txn, [])


def _lane(lane: int, machines: list[float], cycle: float, cpu: float, **delivery) -> LaneRun:
    outcomes = [_outcome(lane, n, m, cycle + n / 10) for n, m in enumerate(machines, 1)]
    count = len(outcomes)
    run = LaneRun(lane, outcomes, [float(n) for n in range(count)], [cpu + n / 100 for n in range(count)],
                  gate_events=[(0.25, "entry_open"), (0.5, "entry_shut")])
    run.delivery = _delivery(len(outcomes), **delivery)
    return run


def _raw(runs: list[LaneRun], samples: list[Sample], elapsed: float, tmp_path: Path, name: str) -> dict:
    """Through the file a group writes and the parent reads."""
    write_raw(tmp_path / name, runs, samples, elapsed)
    return read_raw(tmp_path / name)


# group 1: lanes 1 and 2, fast; group 2: lane 3, slow. Pooled and per-group figures differ.
G1 = ([_lane(1, [1.0, 1.1, 1.2, 1.3], 7.0, 0.4), _lane(2, [1.05, 1.15, 1.25, 1.35], 7.2, 0.5)],
      [Sample(0.0, 400.0, 2.0, 0), Sample(1.0, 450.0, 3.0, 4), Sample(2.0, 460.0, 5.0, 8)], 2.1)
G2 = ([_lane(3, [3.0, 3.1, 3.2, 3.3, 3.4, 3.5], 9.0, 0.9)],
      [Sample(0.1, 300.0, 1.0, 0), Sample(1.6, 330.0, 4.0, 6)], 2.7)


@pytest.fixture
def merged(tmp_path):
    raws = [_raw(*G1, tmp_path, "g1.json"), _raw(*G2, tmp_path, "g2.json")]
    runs, sampler, elapsed = merge(raws)
    report = summarise(runs, sampler, elapsed, TimingModel(), asked=14)
    return grouped(report, raws, [[1, 2], [3]], lanes=3, cpu_cores=2), runs, raws


def test_a_group_result_comes_back_as_it_was_recorded(tmp_path):
    runs, samples, elapsed = G1
    back = runs_of(_raw(runs, samples, elapsed, tmp_path, "g.json"))
    assert [r.lane for r in back] == [1, 2]
    assert back[0].outcomes == runs[0].outcomes                      # tuples, marks, timings as they were
    assert back[1].cpu_s == runs[1].cpu_s and back[0].gate_events == runs[0].gate_events
    assert back[0].delivery == runs[0].delivery and back[0].delivery.exactly_once
    assert json.loads(json.dumps(raw_of(back, samples, elapsed))) == read_raw(tmp_path / "g.json")


def test_merged_percentiles_are_over_every_traveller_not_the_groups_figures(merged):
    report, runs, _ = merged
    machines = [1.0, 1.1, 1.2, 1.3, 1.05, 1.15, 1.25, 1.35, 3.0, 3.1, 3.2, 3.3, 3.4, 3.5]
    assert report["steps_s"]["machine"] == spread(machines)
    assert report["steps_s"]["machine"]["p50"] == 1.3                 # nearest rank over 14 values
    group_p50s = [percentile(machines[:8], 50), percentile(machines[8:], 50)]
    assert report["steps_s"]["machine"]["p50"] != statistics.fmean(group_p50s)   # what averaging would give
    assert report["targets"]["machine_median_s"]["measured"] == 1.3
    assert report["steps_s"]["chip"]["p95"] == pytest.approx(percentile([m * 0.7 for m in machines], 95))
    assert report["travellers"] == {"asked": 14, "done": 14, "as_expected": 14}
    assert [lane["lane"] for lane in report["lanes"]] == [1, 2, 3] and [r.lane for r in runs] == [1, 2, 3]


def test_per_lane_throughput_cpu_and_delivery_are_kept_per_lane(merged):
    report, runs, _ = merged
    per_hour = report["throughput"]["per_lane_per_hour_modelled"]
    assert per_hour[2] == pytest.approx(3600.0 / statistics.fmean([9.0 + n / 10 for n in range(1, 7)]))
    assert per_hour[0] > per_hour[2]
    cpu = [0.4, 0.41, 0.42, 0.43, 0.5, 0.51, 0.52, 0.53, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95]
    assert report["cpu"]["per_traveller_s"] == pytest.approx(spread(cpu))
    assert report["cpu"]["total_s"] == pytest.approx((5.0 - 2.0) + (4.0 - 1.0))      # each group's own CPU
    assert report["throughput"]["real_elapsed_s"] == 2.7                             # the longest group
    assert [lane["bmis"]["crossings"] for lane in report["lanes"]] == [4, 4, 6]
    assert report["bmis_exactly_once"] and ok(report)


def test_one_lane_s_duplicate_fails_the_whole_run(tmp_path):
    lanes = [_lane(1, [1.0], 7.0, 0.4), _lane(2, [1.0], 7.0, 0.4, duplicated=True)]
    raws = [_raw(*G1, tmp_path, "g1.json"), _raw(lanes, G2[1], 1.0, tmp_path, "g2.json")]
    runs, sampler, elapsed = merge(raws)
    report = summarise(runs, sampler, elapsed, TimingModel(), asked=10)
    assert not report["bmis_exactly_once"] and not ok(report)


def test_memory_is_each_group_process_and_their_sum(merged):
    report, _, _ = merged
    memory = report["memory"]
    assert memory["start_mb"] == 700.0 and memory["end_mb"] == 790.0 and memory["peak_mb"] == 790.0
    assert [g["lanes"] for g in memory["groups"]] == [[1, 2], [3]]
    assert [g["peak_mb"] for g in memory["groups"]] == [460.0, 330.0]
    assert memory["groups"][1]["samples"] == [[0.1, 300.0, 0], [1.6, 330.0, 6]]
    assert "2 group processes added up" in report["rss_scope"]


def test_summed_samples_take_each_group_as_last_sampled():
    a = [Sample(0.0, 10.0, 1.0, 0), Sample(1.0, 20.0, 2.0, 1), Sample(3.0, 30.0, 3.0, 2)]
    b = [Sample(0.5, 100.0, 10.0, 0), Sample(2.0, 200.0, 20.0, 5)]
    got = [(s.t, s.rss_mb, s.cpu_s, s.done) for s in summed([a, b, []])]
    assert got == [(0.0, 110.0, 11.0, 0), (0.5, 110.0, 11.0, 0), (1.0, 120.0, 12.0, 1),
                   (2.0, 220.0, 22.0, 6), (3.0, 230.0, 23.0, 7)]


def test_the_reports_of_a_grouped_run_number_lanes_across_groups_and_warn_of_shared_cores(merged, tmp_path):
    report, runs, _ = merged
    text = summary_text(report)
    assert "groups: 2 processes, each its own pcscd in its own mount namespace: lanes 1-2, lane 3" in text
    assert "group 2 memory (RSS): start 300 MB, peak 330 MB" in text
    assert "WARNING: 3 lanes on 2 cores" in text and "not comparable to the target" in text
    assert "lane 3: 385 travellers/hour" in text
    write_reports(report, runs, tmp_path)
    suite = ET.parse(tmp_path / "load-junit.xml").getroot()
    assert sorted({c.get("classname") for c in suite.iter("testcase")}) == ["lane1", "lane2", "lane3", "load"]
    assert json.loads((tmp_path / "load.json").read_text())["groups"]["lanes_share_cores"] is True
    assert (tmp_path / "load-rss.png").read_bytes()[:4] == b"\x89PNG"
    quiet = grouped(summarise(runs, merge([])[1], 1.0, TimingModel(), asked=14), [], [], lanes=4, cpu_cores=4)
    assert quiet["groups"]["note"] == "" and "WARNING" not in summary_text(quiet)


def test_a_group_that_died_leaves_its_lanes_with_the_error(tmp_path):
    group = Group([3, 4], tmp_path / "group2")
    group.workdir.mkdir()
    (group.workdir / "stderr.txt").write_text("Traceback\nOSError: pcscd did not list the vpcd reader\n")
    raws = [_raw(*G1, tmp_path, "g1.json"), result_of(group)]
    runs, sampler, elapsed = merge(raws)
    report = summarise(runs, sampler, elapsed, TimingModel(), asked=12)
    assert [lane["travellers"] for lane in report["lanes"]] == [4, 4, 0, 0] and not ok(report)
    assert "pcscd did not list the vpcd reader" in report["lanes"][3]["error"]
    assert "lane 3 stopped: group process (lanes 3-4) ended with exit code None" in summary_text(report)


def test_groups_are_two_lanes_each_and_get_the_in_process_share():
    assert plan(3) == [[1, 2], [3]] and plan(8) == [[1, 2], [3, 4], [5, 6], [7, 8]] and plan(1) == [[1]]
    travellers = list(range(11))
    assert shares_of(travellers, 1, {"first_lane": 3, "group_of": 3}) == [split(travellers, 3)[2]]
    assert shares_of(travellers, 2, {"first_lane": 1, "group_of": 3}) == split(travellers, 3)[:2]
    assert shares_of(travellers, 2, {}) == split(travellers, 2)


def test_each_group_gets_its_own_pair_of_vpcd_ports():
    offered = iter([5000, 5001, 5001, 6000, 7000])
    assert vpcd_ports(2, free=lambda: next(offered), bindable=lambda port: port != 6001) == [5000, 7000]
    with pytest.raises(LoadError, match="pairs of free TCP ports"):
        vpcd_ports(2, free=lambda: 5000, bindable=lambda port: True)


def test_a_group_runs_the_whole_run_s_travellers_and_seed_in_its_own_namespace(tmp_path):
    args = Namespace(travellers=24, lanes=5, seed=9, chip_kbps=212, speedup=10.0, framing="cute", hours=0.5,
                     faces="bundled", timing=["door_motor_s=0.3"], verbose=False)
    argv = child_argv(args, [3, 4], 41000, tmp_path / "raw.json")
    assert argv[1:4] == ["-m", "simulator.cli", "load"]
    pairs = dict(zip(argv[4::2], argv[5::2]))
    assert pairs == {"--travellers": "24", "--lanes": "2", "--seed": "9", "--chip-kbps": "212", "--speedup": "10.0",
                     "--framing": "cute", "--group-of": "5", "--group-first-lane": "3", "--group-vpcd": "41000",
                     "--group-raw": str(tmp_path / "raw.json"), "--hours": "0.5", "--faces": "bundled",
                     "--timing": "door_motor_s=0.3"}
    root = Namespacing("/usr/bin/unshare", user=False).wrap(["gatesim"])
    assert root == ["/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mkdir -p /run/pcscd && mount -t tmpfs none /run/pcscd && exec "$0" "$@"', "gatesim"]
    user = Namespacing("/usr/bin/unshare", user=True).wrap(["gatesim"])
    assert user[:6] == ["/usr/bin/unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


def test_no_namespace_no_more_than_two_lanes():
    with pytest.raises(LoadError, match=r"need a mount namespace.*unshare program \(util-linux\) is not installed"):
        namespacing(is_root=True, which=lambda name: None)
    tried = []

    def refuse(argv):
        tried.append(argv)
        return "unshare: unshare failed: Operation not permitted"
    with pytest.raises(LoadError, match=r"not root, and a user namespace \(`unshare -Urm`\) failed: .*not permitted"):
        namespacing(is_root=False, which=lambda name: "/usr/bin/unshare", probe=refuse)
    assert tried[0][:6] == ["/usr/bin/unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    with pytest.raises(LoadError, match="`unshare -m` failed as root"):
        namespacing(is_root=True, which=lambda name: "/usr/bin/unshare", probe=refuse)
    assert namespacing(is_root=False, which=lambda name: "/u/unshare", probe=lambda argv: "") == \
        Namespacing("/u/unshare", user=True)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare (util-linux)")
def test_this_machine_gives_a_private_run_pcscd_with_and_without_a_user_namespace():
    for user in (False, True):                  # the real probe: a tmpfs mounted on /run/pcscd
        try:
            way = namespacing(is_root=not user)
        except LoadError as exc:                # a container without the right: the machine's, not the code's
            pytest.skip(f"this machine gives no private /run/pcscd: {exc}")
        assert way.user is user


def test_gatesim_refuses_three_lanes_without_unshare_and_never_runs_fewer(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))                     # no unshare to be found
    code = gatesim(["load", "--lanes", "3", "--travellers", "3", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "unshare program (util-linux) is not installed" in err
    assert not (tmp_path / "out").exists()
    code = gatesim(["load", "--lanes", "3", "--travellers", "3", "--vpcd-port", "35963"])
    assert code == 2 and "--vpcd-port names one running pcscd" in capsys.readouterr().err


FAKE_GROUP = """
import shutil, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
first = args["--group-first-lane"]
if first in {fail!r}:
    sys.stderr.write("BenchUnavailable: mosquitto is not installed\\n")
    sys.exit(2)
shutil.copy(sys.argv[0].replace("fake.py", "prepared-" + first + ".json"), args["--group-raw"])
for n in range(200):
    print("  lane " + first + " starting " + str(n) + " " + "x" * 60)
print("{ready}", flush=True)
word = sys.stdin.readline().strip()
for n in range(200):
    print("  lane " + first + " #" + str(n) + " after " + word + " " + "y" * 60)
"""


class _FakeNamespace(Namespacing):
    """The group command as built, run by a stand-in group (no services) instead of in a namespace."""

    def wrap(self, argv):
        return [argv[0], self.unshare, *argv[4:]]        # python fake.py --travellers ... (the group's options)


def _fake_groups(tmp_path, fail=()):
    from simulator.load_groups import READY
    (tmp_path / "fake.py").write_text(FAKE_GROUP.format(fail=set(fail), ready=READY))
    for first, (runs, samples, elapsed) in (("1", G1), ("3", G2)):
        write_raw(tmp_path / f"prepared-{first}.json", runs, samples, elapsed)
    args = Namespace(travellers=14, lanes=3, seed=9, chip_kbps=424, speedup=10.0, framing="cute", hours=None,
                     faces=None, timing=[], verbose=False)
    return args, _FakeNamespace(str(tmp_path / "fake.py"), user=False)


def test_groups_start_in_turn_and_walk_on_the_word(tmp_path, capfd):
    from simulator.load_groups import run_groups
    args, ns = _fake_groups(tmp_path)
    raws = run_groups(args, tmp_path / "work", ns)
    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 800 and all(line.endswith(("x" * 60, "after go " + "y" * 60))
                                     for line in lines)                 # whole lines, never two run together
    assert max(i for i, line in enumerate(lines) if "lane 1 starting" in line) < \
        min(i for i, line in enumerate(lines) if "lane 3 starting" in line)        # group 2 started once 1 was up
    assert max(i for i, line in enumerate(lines) if "starting" in line) < \
        min(i for i, line in enumerate(lines) if "after go" in line)               # nobody walked before all were up
    runs, _, _ = merge(raws)
    assert [r.lane for r in runs] == [1, 2, 3] and not any(r.error for r in runs)


def test_a_group_that_cannot_start_stops_the_run_and_its_siblings(tmp_path, capfd):
    from simulator.load_groups import run_groups
    args, ns = _fake_groups(tmp_path, fail={"3"})
    with pytest.raises(LoadError, match="lanes 3 did not start: BenchUnavailable: mosquitto is not installed"):
        run_groups(args, tmp_path / "work", ns)
    assert "after" not in capfd.readouterr().out        # group 1 was stopped before it walked anyone


class _SlowStream:
    """A terminal that takes its time over each write, as a loaded machine's does."""

    def __init__(self):
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        time.sleep(0.0005)
        self.writes.append(text)

    def flush(self) -> None:
        pass


def test_the_groups_relayed_lines_are_printed_whole(monkeypatch):
    from simulator.load_groups import say
    stream = _SlowStream()
    monkeypatch.setattr(sys, "stdout", stream)
    relays = [threading.Thread(target=lambda n=n: [say(f"lane {n} #{k}") for k in range(40)]) for n in range(4)]
    for relay in relays:
        relay.start()
    for relay in relays:
        relay.join()
    lines = "".join(stream.writes).splitlines()
    assert len(lines) == 160 and all(re.fullmatch(r"lane \d #\d+", line) for line in lines)
