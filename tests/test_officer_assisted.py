"""Assisted mode end to end on the bench: the REAL assembled appliance (pty reader, pcscd + vpcd
chip, scene camera, MockFactory gate, mosquitto TLS, BMIS consumer) with its officer console on
HTTPS. simulator/scenarios/assisted.toml switches the lane to assisted mode by a signed BMIS
command; the bench's officer signs in and answers on the console. An accepted traveller passes, a
rejected one is refused, one nobody answers is referred after officer_s, one referred goes to the
desk; the crossing records name the officer and the decision, and the audit table has each answer."""
from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from simulator.portraits import prepare_faces
from simulator.scenario import load_scenario
from simulator.scenario_bench import DEVICE_ID, OFFICER, OFFICER_S, Bench
from simulator.scenario_run import ScenarioRunner
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

ASSISTED = Path(__file__).resolve().parents[1] / "simulator" / "scenarios" / "assisted.toml"


def test_assisted_mode_accept_reject_no_answer_and_refer(pcscd_vpcd, tmp_path):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    faces = prepare_faces("bundled", tmp_path / "none", tmp_path, random.Random(3))
    scenario = load_scenario(ASSISTED)
    with Bench(tmp_path / "bench", faces.root, vpcd_port=pcscd_vpcd[1], pad=False) as bench:
        outcomes = ScenarioRunner(bench).run(scenario)
        records = {m["data"]["transaction_id"]: m["data"]
                   for m in bench.consumer.messages(kind="events/crossing", device_id=DEVICE_ID)}
        audit_file = bench.workdir / "var" / "officer-audit.db"
        audit = sqlite3.connect(audit_file).execute(
            "SELECT officer, action, txn_id, verdict, applied FROM officer_audit ORDER BY id").fetchall()
    for outcome in outcomes:
        assert outcome.as_expected, f"{outcome.label}: {outcome.differences()}"
    assert [o.outcome for o in outcomes] == ["passed", "rejected", "referred", "referred", "passed"]
    assert [o.officer for o in outcomes] == [(OFFICER, "accept"), (OFFICER, "reject"), (None, None),
                                             (OFFICER, "refer"), (None, None)]
    assert outcomes[2].seconds >= OFFICER_S                  # referred only once officer_s had passed
    by_mode = sorted((r["mode"], r["outcome"]) for r in records.values())
    assert by_mode == sorted([("assisted", "passed"), ("assisted", "rejected"), ("assisted", "referred"),
                              ("assisted", "referred"), ("normal", "passed")])
    decisions = [row for row in audit if row[1] == "decision"]
    assert [(row[0], row[3], row[4]) for row in decisions] == [(OFFICER, "accept", 1), (OFFICER, "reject", 1),
                                                               (OFFICER, "refer", 1)]
    assert {row[2] for row in decisions} <= set(records) and audit[0][:2] == (OFFICER, "login")
