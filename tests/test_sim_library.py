"""The scenario library (simulator/scenarios/): its coverage of every reason code, fault kind, lane
mode and hostile document is checked on every run (so it cannot rot); the fast files run through the
assembled appliance in `make test`, every file runs with `-m slow`; nothing is left running.

    flock /tmp/pcscd.lock .venv/bin/python -m pytest -m slow tests/test_sim_library.py     # all files
(run under flock /tmp/pcscd.lock: the runs use pcscd and mosquitto)
"""
from __future__ import annotations

import argparse
import ast
import inspect
import os
import random
import shutil
import threading
from pathlib import Path

import pytest

from firmware_app.policy.modes import LaneMode
from firmware_app.policy.reasons import ReasonCode
from simulator.bmis_consumer import read_messages
from simulator.faults import FaultKind
from simulator.pii_guard import LogCapture
from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import Hostile, check_persons, load_scenario
from simulator.scenario_cmd import run_scenario, without_pad
from simulator.scenario_library import FAST, LIBRARY, NOT_COVERED, UNREACHABLE, coverage, library_files
from tests import pcsc_fixtures
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)
from tests.pii_helpers import assert_bmis_search_bites, assert_capture_bites, assert_no_personal_data, run_records


def test_every_reason_code_is_in_a_scenario_or_said_missing():
    covered = coverage().reasons
    codes = {code.value for code in ReasonCode}
    excused = set(NOT_COVERED) | set(UNREACHABLE)
    assert codes - covered - excused == set(), "add a scenario, or say why in NOT_COVERED or UNREACHABLE"
    assert covered & excused == set(), "covered now: remove them from NOT_COVERED / UNREACHABLE"
    assert excused <= codes, "NOT_COVERED / UNREACHABLE name codes that no longer exist"
    assert set(UNREACHABLE) == set(_UNREACHABLE_CHECKS), "each unreachable code needs its check below"
    for code in UNREACHABLE:
        assert UNREACHABLE[code] and code in SCENARIOS_PAGE, f"{code}: say why, here and in docs/scenarios.md"


# --- the unreachable-by-design codes: each still has only the producers its reason names -----------
SCENARIOS_PAGE = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()


def _officer_decisions_made() -> set[tuple[str, str, str]]:
    """Every place firmware_app builds a lane OfficerDecision: (module, function, officer id given)."""
    root = Path(__file__).resolve().parents[1]
    found = set()
    for path in sorted((root / "firmware_app").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
                if name == "OfficerDecision":
                    officer = call.args[2] if len(call.args) > 2 else next(
                        (k.value for k in call.keywords if k.arg == "officer_id"), None)
                    found.add((path.relative_to(root).as_posix(), function.name,
                               ast.unparse(officer) if officer is not None else "(none)"))
    return found


def _officer_unidentified_is_unreachable() -> None:
    """officer_unidentified needs an OfficerDecision without an officer id (lane/flow.py). Its makers:
    the console desk (the signed-in officer's name), the one-stop reviews (the reviewing roles; ''
    only for a case with no joint decision). A new maker, or a change of these, fails here: look
    again whether real input can now reach the code (then script it and drop it from UNREACHABLE)."""
    from firmware_app.officer.credentials import NAME
    assert _officer_decisions_made() == {
        ("firmware_app/officer/review.py", "decide", "officer"),
        ("firmware_app/onestop/reviews.py", "request_review", "''"),
        ("firmware_app/onestop/reviews.py", "_final", "answered"),
    }
    assert not any(NAME.match(name) for name in ("", " ", "\t"))      # a signed-in officer always has a name
    _the_joint_decider_remembers_before_answering()


def _the_joint_decider_remembers_before_answering() -> None:
    """The one-stop review answers '' only when it finds no joint decision for the transaction; the
    lane asks for a review only after the decider answered, and the decider remembers first."""
    from firmware_app.onestop.decider import JointDecisions, OnestopDecider
    source = inspect.getsource(OnestopDecider.__call__)
    assert source.index("self._memory.remember(request.txn_id") < source.index("return joint.lane_decision()")
    assert JointDecisions().get("") is None     # (no transaction id: never a lane's)


_UNREACHABLE_CHECKS = {"officer_unidentified": _officer_unidentified_is_unreachable}


@pytest.mark.parametrize("code", sorted(UNREACHABLE))
def test_the_unreachable_reason_codes_are_still_unreachable_by_design(code):
    _UNREACHABLE_CHECKS[code]()


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


def _run_file(name: str, port: int, tmp_path: Path, watch=None):
    faces = prepare_faces(BUNDLED, tmp_path / "none", tmp_path / "faces", random.Random(7))
    scenario = without_pad(load_scenario(LIBRARY / name))
    args = argparse.Namespace(vpcd_port=port, framing="cute", seed=7)
    return run_scenario(scenario, args, faces.root, tmp_path / "run", name, pad=False,
                        pcscd=pcsc_fixtures._Shared.pcscd, watch=watch)


def _check_run(name: str, port: int, tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    before = {thread.name for thread in threading.enumerate()}
    children_before = _children()          # e.g. the suite's shared Chromium, started by other tests
    seen: list = []
    with LogCapture() as captured:      # every record of the run at INFO and above (simulator/pii_guard.py)
        outcomes, delivery = _run_file(name, port, tmp_path, watch=lambda *bench_runner: seen.extend(bench_runner))
    bench, runner = seen
    records = run_records(captured, bench)
    assert_capture_bites(captured, records, list(runner.issued))
    _no_personal_data(records, tmp_path / "run", list(runner.issued))
    differences = [f"{o.label}: {o.differences()}" for o in outcomes if not o.as_expected]
    differences += [f.line(n) for n, f in enumerate(delivery.faults, 1) if f.differences()]
    assert not differences and delivery.exactly_once, differences
    left = {pid: name for pid, name in _children().items() if pid not in children_before}
    assert left == {}                                                # no broker or helper left behind
    lingering = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not {n for n in lingering if n.startswith(("lane", "fault", "vpcd", "gate-sim"))}, lingering


def _no_personal_data(records: list, workdir: Path, issued: list) -> None:
    """The guard: no traveller's personal data in any log record above DEBUG, nor in a BMIS message
    beyond the crossing record's document (tests/pii_helpers.py)."""
    messages = read_messages(workdir / "bmis-consumer.db")
    assert_bmis_search_bites(messages, issued)
    assert_no_personal_data(records, messages, issued)


@pytest.mark.parametrize("name", FAST)
def test_the_fast_library_files_run_as_expected(pcscd_vpcd, tmp_path, name):
    _check_run(name, pcscd_vpcd[1], tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(p.name for p in LIBRARY.glob("*.toml") if p.name not in FAST))
def test_the_whole_library_runs_as_expected(pcscd_vpcd, tmp_path, name):
    _check_run(name, pcscd_vpcd[1], tmp_path)
