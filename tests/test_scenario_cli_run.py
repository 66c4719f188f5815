"""`gatesim scenario` end to end on the bundled faces: a year at a post (simulator/scenarios/year.toml:
an ID card, a child, PACE and PACE-CAM chips, extended length on and off) runs on any machine, each
traveller's outcome AND reason codes are compared, the chip is opened the way it was made, and one
difference makes the run exit 1."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.cli import main as gatesim
from simulator.scenario import load_scenario
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

YEAR = Path(__file__).resolve().parents[1] / "simulator" / "scenarios" / "year.toml"
WRONG = '''
[[traveller]]
label = "expected reasons that will not come"
person = "collins"
expired = true
expect = "rejected"
expect_reasons = ["document_expired", "alert_list_hit"]
'''
CHIP = {"bac": "BAC+CA", "pace": "PACE+CA", "pace_cam": "PACE+CAM"}


def test_a_year_at_a_post_runs_and_a_wrong_expectation_fails_the_run(pcscd_vpcd, tmp_path, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    scenario = tmp_path / "year-plus-one.toml"
    scenario.write_text(YEAR.read_text() + WRONG)
    _, port = pcscd_vpcd
    code = gatesim(["scenario", str(scenario), "--faces", "bundled", "--vpcd-port", str(port)])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  ") and ". " in line[:6]]
    travellers = load_scenario(YEAR).travellers
    assert len(lines) == len(travellers) + 1, out
    for spec, line in zip(travellers, lines):
        assert line.endswith("  ok"), line                                 # outcome and reasons as the file says
        assert f" chip={CHIP[spec.chip.value]} " in line, line
    assert "UNEXPECTED (reasons document_expired, wanted alert_list_hit,document_expired)" in lines[-1], out
    assert f"differs: traveller {len(lines)} (expected reasons that will not come)" in out
    assert "each msg_id exactly once: yes" in out
    assert "result: FAILED" in out and code == 1
