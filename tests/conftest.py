"""Shared test fixtures. ../shared/data is read in place; tests that need it skip when absent."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

from kiosk_browser_helpers import kiosk_browser  # noqa: F401 - one headless Chromium per session

# The suite (what CI runs) tries the same hypothesis examples on every run, so a gate on a merge never
# turns red by the luck of the draw; `make fuzz` draws new examples every round (HYPOTHESIS_PROFILE=fuzz)
# and is where new failures are looked for. Loaded here, before any test module is imported, so each
# test's own @settings inherit it.
settings.register_profile("suite", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def verifier():
    """The face verifier on the fetched models (YuNet, SFace; PAD when setup converted it), built
    once: loading and warming the ONNX sessions costs seconds."""
    from firmware_app.face.verifier import build_verifier
    return build_verifier(ROOT / "models", threads=2)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (checkout without ../shared/data)")
    return SHARED_DATA


# --- two workers (`make test` runs pytest-xdist: -n 2) -----------------------------------------------
# Only one pcscd can run on a machine, so every file that may start one (directly, through a bench,
# the demo or a gatesim command) shares one group and runs on one worker, in order; every other file
# is its own group, so its module-scoped brokers and appliances are built once. A file is a pcscd
# user when it or a local helper module it imports names one of these; a wrong "yes" only costs
# parallelism, so the list is broad.
PCSCD_USER = re.compile(r"pcsc_fixtures|pcscd|vpcd|scenario_bench|Bench\b|demo|gatesim|load_run|power_cut"
                        r"|gate_app_bench|chip_cmd|deploy_fixtures|officer_helpers|app_assembly|safety_process"
                        r"|simulator\.(scenario_run|scenario_cmd|load|soak|onestop)")
LOCAL_IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.MULTILINE)


def _may_start_pcscd(path: Path, seen: set[Path] | None = None) -> bool:
    seen = set() if seen is None else seen
    if path in seen or not path.is_file():
        return False
    seen.add(path)
    text = path.read_text(encoding="utf-8")
    if PCSCD_USER.search(text):
        return True
    return any(_may_start_pcscd(path.parent / f"{name}.py", seen) for name in LOCAL_IMPORT.findall(text)
               if name != "conftest")


def pytest_xdist_make_scheduler(config, log):
    """xdist's own loadgroup cannot be used: under pytest 9 its group marks never reach the node ids."""
    from xdist.scheduler import LoadFileScheduling

    class PcscdUsersOnOneWorker(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path not in verdicts:
                verdicts[path] = _may_start_pcscd(ROOT / path)
            return "pcscd users" if verdicts[path] else path

    verdicts: dict[str, bool] = {}

    return PcscdUsersOnOneWorker(config, log)
