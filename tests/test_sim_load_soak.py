"""The long load: 5,000 travellers (GATESIM_SOAK_TRAVELLERS to change it) through the appliance,
checking that memory does not grow once warm and that the BMIS got every crossing exactly once.
Marked slow (hours): not part of `make test`; run it with

    flock /tmp/pcscd.lock .venv/bin/python -m pytest -m slow tests/test_sim_load_soak.py -s
"""
from __future__ import annotations

import json
import os

import pytest

from simulator.cli import main as gatesim

pytestmark = [pytest.mark.slow, pytest.mark.timeout(24 * 3600)]
GROWTH_BOUND_MB = 64.0        # a generous safety bound: a leak of a few kB per traveller shows up


def test_memory_stays_flat_over_a_long_load(tmp_path):
    travellers = int(os.environ.get("GATESIM_SOAK_TRAVELLERS", "5000"))
    fast = ["--timing", "door_motor_s=0.3", "--timing", "step_in_s=0.3", "--timing", "walk_out_s=0.3"]
    code = gatesim(["load", "--travellers", str(travellers), "--speedup", "100", "--out", str(tmp_path), *fast])
    report = json.loads((tmp_path / "load.json").read_text())
    print(f"RSS {report['memory']['after_first_10pct_mb']:.0f} MB after the first 10%, "
          f"{report['memory']['end_mb']:.0f} MB at the end of {travellers} travellers")
    assert code == 0 and report["bmis_exactly_once"]
    assert report["memory"]["growth_after_warmup_mb"] < GROWTH_BOUND_MB
