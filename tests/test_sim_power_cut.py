"""A power cut on the scenario bench, end to end and fast: the real `gate-app` and `gate-safety`
processes (real pcscd + vpcd chip, real mosquitto with TLS and ACL, the reader on a pty), SIGKILLed
while a traveller's chip is read and booted again. Checked: no door released by the boot, the lane
back in service, the interrupted transaction voided and reported once, the traveller decided afresh,
the crossing stored before the cut at the BMIS exactly once, and nothing left running.
The longer library file (simulator/scenarios/power.toml) runs with `-m slow` (tests/test_sim_library.py).

    flock /tmp/pcscd.lock .venv/bin/python -m pytest -q tests/test_sim_power_cut.py
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
from pathlib import Path

import pytest

from simulator.bmis_consumer import read_messages
from simulator.pii_guard import LogCapture
from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import parse_scenario
from simulator.scenario_cmd import run_scenario, without_pad
from tests import pcsc_fixtures
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)
from tests.pii_helpers import assert_bmis_search_bites, assert_capture_bites, assert_no_personal_data, run_records

pytestmark = pytest.mark.timeout(300)

SCENARIO = {
    "traveller": [
        {"label": "decided before the cut", "person": "hopper", "expect": "passed", "expect_reasons": []},
        {"label": "caught by the cut", "person": "collins", "expect": "passed", "expect_reasons": []},
    ],
    "fault": [{"kind": "power_cut", "before_traveller": 2, "in_state": "chip", "for_s": 0.5}],
}


def _own_children() -> dict[int, str]:
    """This process's children still there (the fixture's pcscd aside), by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text.split("(", 1)[1].rsplit(")", 1)[0], text.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and name != "pcscd" and fields[0] != "Z":
            found[int(stat.parent.name)] = name
    return found


@pytest.fixture(scope="module")
def cut_run(pcscd_vpcd, tmp_path_factory):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    tmp = tmp_path_factory.mktemp("power-cut")
    faces = prepare_faces(BUNDLED, tmp / "none", tmp / "faces", random.Random(7))
    before = _own_children()
    args = argparse.Namespace(vpcd_port=pcscd_vpcd[1], framing="cute", seed=7)
    run_dir = tmp / "run"
    run_dir.mkdir()
    seen: list = []
    with LogCapture() as captured:      # this process's records; gate-app's and gate-safety's are in their logs
        outcomes, delivery = run_scenario(without_pad(parse_scenario(SCENARIO)), args, faces.root, run_dir,
                                          "power cut", pad=False, pcscd=pcsc_fixtures._Shared.pcscd,
                                          watch=lambda *bench_runner: seen.extend(bench_runner))
    bench, runner = seen
    guarded = (captured, run_records(captured, bench), list(runner.issued))
    left = {pid: name for pid, name in _own_children().items() if pid not in before}
    return outcomes, delivery, run_dir, left, guarded


def test_the_interrupted_traveller_is_decided_afresh_and_nobody_passes_by_the_restart(cut_run):
    outcomes, delivery, run_dir, *_ = cut_run
    assert [o.differences() for o in outcomes] == [[], []]
    assert outcomes[1].screen == "power_cut>presented again"
    (cut,) = delivery.faults
    assert cut.differences() == [] and cut.error == ""          # no door released at boot or when ready
    assert cut.states[0] == "power_off" and cut.states[-1] == "idle"
    assert cut.in_service_s is not None and cut.in_service_s < 60
    assert "cut in chip" in " ".join(cut.notes)
    assert "1 interrupted transaction(s) voided and reported" in cut.notes
    log = (run_dir / "gate-app.log").read_text()
    assert "--- start 2" in log and "--- start 3" not in log    # one real SIGKILL and one boot
    assert "--- start 2" in (run_dir / "gate-safety.log").read_text()


def test_every_crossing_stored_before_the_cut_reaches_the_bmis_exactly_once(cut_run):
    outcomes, delivery, *_ = cut_run
    assert len(delivery.stored_before_cuts) == 1
    assert delivery.exactly_once and delivery.pending_at_gate == 0 and not delivery.seq_gaps
    assert set(delivery.crossings_per_transaction) >= delivery.stored_before_cuts
    assert sorted(delivery.crossings_per_transaction.values()) == [1, 1]
    assert delivery.by_kind.get("events/exception") == 1      # the voided transaction, once


def test_nothing_is_left_running(cut_run):
    *_, left, _ = cut_run
    assert left == {}           # gate-app, gate-safety, mosquitto: all gone


def test_no_personal_data_above_debug_in_any_process_nor_beyond_the_contract_at_the_bmis(cut_run):
    """The guard (simulator/pii_guard.py) over gate-app's and gate-safety's logs (stdout and stderr,
    both boots) and this process's records: each process's log must hold its own INFO records, and
    the same search must find the run's data planted at DEBUG."""
    _, _, run_dir, _, (captured, records, issued) = cut_run
    for process in ("gate-app", "gate-safety"):
        assert any(r.source.startswith(f"{process}:") and r.level >= logging.INFO for r in records), process
    assert_capture_bites(captured, records, issued)
    messages = read_messages(run_dir / "bmis-consumer.db")
    assert_bmis_search_bites(messages, issued)
    assert_no_personal_data(records, messages, issued)
