"""`gatesim load` end to end on two lanes (two appliances sharing one pcscd's two vpcd slots, each
with its own mosquitto and BMIS consumer), with the timing model on and each lane stopped by
--hours: every traveller as expected,
every crossing at the BMIS exactly once, the reports written, and the model's delays visible in
what the appliances measured (run under flock /tmp/pcscd.lock)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from simulator.cli import main as gatesim
from simulator.load_merge import cores
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

FAST_PEOPLE = ["door_motor_s=0.3", "step_in_s=0.5", "walk_out_s=0.5", "place_document_s=1.0"]


def test_a_short_load_on_two_lanes_for_a_given_time(pcscd_vpcd, tmp_path, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    timing = [arg for item in FAST_PEOPLE for arg in ("--timing", item)]
    # 1.8 s of modelled time per lane: a lane cycle takes longer, so each lane stops after its
    # second traveller (the first has finished when the third would start), 4 of the 6 allowed
    code = gatesim(["load", "--travellers", "6", "--hours", "0.0005", "--lanes", "2", "--faces", "bundled",
                    "--seed", "2",
                    "--vpcd-port", str(pcscd_vpcd[1]), "--out", str(tmp_path / "out"), *timing])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads((tmp_path / "out" / "load.json").read_text())
    assert report["travellers"] == {"asked": 6, "done": 4, "as_expected": 4}
    assert report["hours"]["reached"] == [True, True]
    assert [lane["bmis"]["crossings"] for lane in report["lanes"]] == [2, 2] and report["bmis_exactly_once"]
    steps = report["steps_s"]
    assert steps["machine"]["p50"] >= 0.5                         # reader detect + scan came first
    # mantrap: the entry opens and shuts, the exit opens, two walks; the record is made once the
    # traveller is out (the exit shuts behind them while the next document is read)
    assert steps["passage"]["p50"] >= 3 * 0.3 + 2 * 0.4
    assert steps["cycle"]["p50"] >= 0.8 + steps["machine"]["p50"]
    assert report["timing_model"]["chip_kbps"] == 424 and report["memory"]["peak_mb"] > 0
    assert "target machine time median" in out and "target lane cycle median (hand-over included)" in out
    breakdown = report["cycle_breakdown"]      # the next traveller served while the one before walked out
    if breakdown["travellers"]:
        means = [part["mean"] for part in breakdown["parts"].values()]
        assert sum(means) == pytest.approx(breakdown["cycle"]["mean"], abs=1e-6)
        assert sum(p["mean"] for p in breakdown["waited_on"].values()) == \
            pytest.approx(breakdown["parts"]["waiting"]["mean"], abs=1e-6)
    for name in ("load-summary.txt", "load-junit.xml", "load-steps.png", "load-throughput.png", "load-rss.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0


@pytest.mark.slow      # ~30 s: two group processes, each with its own pcscd (logic: test_sim_load_groups)
def test_three_lanes_run_as_two_groups_each_with_its_own_pcscd(tmp_path, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    if shutil.which("unshare") is None:
        pytest.skip("no unshare (util-linux): more than two lanes are refused (test_sim_load_groups)")
    timing = [arg for item in FAST_PEOPLE for arg in ("--timing", item)]
    code = gatesim(["load", "--travellers", "4", "--lanes", "3", "--faces", "bundled", "--seed", "2",
                    "--out", str(tmp_path / "out"), *timing])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    report = json.loads((tmp_path / "out" / "load.json").read_text())
    assert report["travellers"] == {"asked": 4, "done": 4, "as_expected": 4}
    assert [(lane["lane"], lane["travellers"]) for lane in report["lanes"]] == [(1, 2), (2, 1), (3, 1)]
    assert [lane["bmis"]["crossings"] for lane in report["lanes"]] == [2, 1, 1] and report["bmis_exactly_once"]
    assert report["groups"]["lanes"] == [[1, 2], [3]] and report["steps_s"]["machine"]["n"] == 4
    assert [g["lanes"] for g in report["memory"]["groups"]] == [[1, 2], [3]]
    assert all(g["peak_mb"] > 0 for g in report["memory"]["groups"])
    assert "lanes 1-2, lane 3" in captured.out
    assert ("WARNING: 3 lanes on" in captured.err) == (cores() < 3) == report["groups"]["lanes_share_cores"]
    junit = (tmp_path / "out" / "load-junit.xml").read_text()
    assert 'classname="lane3" name="1 generated 3"' in junit          # lane 3's share, as in one process
    for name in ("load-summary.txt", "load-steps.png", "load-throughput.png", "load-rss.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
