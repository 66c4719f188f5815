"""The scenario library (simulator/scenarios/): its coverage of every reason code, fault kind, lane
mode and hostile document is checked on every run (so it cannot rot); the fast files run through the
assembled appliance in `make test`, every file runs with `-m slow`; nothing is left running.

    flock /tmp/pcscd.lock .venv/bin/python -m pytest -m slow tests/test_sim_library.py     # all files
(run under flock /tmp/pcscd.lock: the runs use pcscd and mosquitto)
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import threading
from pathlib import Path

import pytest

from firmware_app.policy.modes import LaneMode
from firmware_app.policy.reasons import ReasonCode
from simulator.faults import FaultKind
from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import Hostile, check_persons, load_scenario
from simulator.scenario_cmd import run_scenario, without_pad
from simulator.scenario_library import FAST, LIBRARY, NOT_COVERED, coverage, library_files
from tests import pcsc_fixtures
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)


def test_every_reason_code_is_in_a_scenario_or_said_missing():
    covered = coverage().reasons
    codes = {code.value for code in ReasonCode}
    assert codes - covered - set(NOT_COVERED) == set(), "add a scenario, or say why in NOT_COVERED"
    assert covered & set(NOT_COVERED) == set(), "covered now: remove them from NOT_COVERED"
    assert set(NOT_COVERED) <= codes, "NOT_COVERED names codes that no longer exist"


def test_every_fault_kind_lane_mode_and_hostile_document_is_in_a_scenario():
    found = coverage()
    assert found.fault_kinds == {kind.value for kind in FaultKind}
    assert found.lane_modes == {mode.value for mode in LaneMode}
    assert found.hostile == {case.value for case in Hostile}
    assert found.timed


def test_the_library_runs_on_the_bundled_faces_and_the_fast_files_exist():
    assert set(FAST) <= {path.name for path in library_files()}
    for path in library_files():
        check_persons(load_scenario(path), {"hopper", "collins"})


def _children() -> dict[int, str]:
    """Processes this test process started that are still there (pcscd of the fixture aside), by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            fields = text.rsplit(")", 1)[1].split()
            name = text.split("(", 1)[1].rsplit(")", 1)[0]
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and name != "pcscd" and fields[0] != "Z":
            found[int(stat.parent.name)] = name
    return found


def _run_file(name: str, port: int, tmp_path: Path):
    faces = prepare_faces(BUNDLED, tmp_path / "none", tmp_path / "faces", random.Random(7))
    scenario = without_pad(load_scenario(LIBRARY / name))
    args = argparse.Namespace(vpcd_port=port, framing="cute", seed=7)
    return run_scenario(scenario, args, faces.root, tmp_path / "run", name, pad=False,
                        pcscd=pcsc_fixtures._Shared.pcscd)


def _check_run(name: str, port: int, tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    before = {thread.name for thread in threading.enumerate()}
    children_before = _children()          # e.g. the suite's shared Chromium, started by other tests
    outcomes, delivery = _run_file(name, port, tmp_path)
    differences = [f"{o.label}: {o.differences()}" for o in outcomes if not o.as_expected]
    differences += [f.line(n) for n, f in enumerate(delivery.faults, 1) if f.differences()]
    assert not differences and delivery.exactly_once, differences
    left = {pid: name for pid, name in _children().items() if pid not in children_before}
    assert left == {}                                                # no broker or helper left behind
    lingering = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not {n for n in lingering if n.startswith(("lane", "fault", "vpcd", "gate-sim"))}, lingering


@pytest.mark.parametrize("name", FAST)
def test_the_fast_library_files_run_as_expected(pcscd_vpcd, tmp_path, name):
    _check_run(name, pcscd_vpcd[1], tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(p.name for p in LIBRARY.glob("*.toml") if p.name not in FAST))
def test_the_whole_library_runs_as_expected(pcscd_vpcd, tmp_path, name):
    _check_run(name, pcscd_vpcd[1], tmp_path)
