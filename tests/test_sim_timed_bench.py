"""A timed run on the bench (real pcscd + vpcd, mosquitto, the assembled appliance): the timing
model's delays show in what the appliance itself measured, and each traveller gets a machine time
and a lane cycle that add up (run under flock /tmp/pcscd.lock)."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import Chip, TravellerSpec
from simulator.scenario_bench import Bench
from simulator.scenario_run import ScenarioRunner
from simulator.timing import TimingModel
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

MODEL = TimingModel(chip_kbps=212, reader_detect_s=0.2, reader_scan_s=0.4, door_motor_s=0.4, approach_s=4.0,
                    place_document_s=2.0, step_in_s=0.6, walk_out_s=0.6, jitter=0.0, speedup=20)


def test_timed_travellers_take_the_modelled_time(pcscd_vpcd, tmp_path):  # noqa: F811
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    faces = prepare_faces(BUNDLED, tmp_path / "none", tmp_path / "faces", random.Random(1))
    with Bench(tmp_path / "bench", faces.root, vpcd_port=pcscd_vpcd[1], pad=False, timing=MODEL) as bench:
        runner = ScenarioRunner(bench, MODEL)
        passed = runner.run_traveller(1, TravellerSpec("genuine", "hopper", chip=Chip.PACE, extended_length=True))
        expired = runner.run_traveller(2, TravellerSpec("expired", "collins", expired=True))
    assert (passed.outcome, expired.outcome) == ("passed", "rejected")
    # the reader gave the MRZ only after detection and scan; the decision came after that
    assert passed.machine_s >= 0.6 and expired.machine_s >= 0.6
    # mantrap: entry opens, closes, exit opens, closes (4 swings) and the traveller walks twice
    assert passed.timings_ms["passage"] >= 1000 * (4 * 0.4 + 0.6 + 0.6) * 0.9
    # the cycle has the modelled approach and placing (6 s) though they were slept 20x faster
    assert passed.cycle_s >= 6.0 + passed.machine_s + 0.4 + 0.6
    assert passed.seconds < passed.cycle_s - 4.0
    assert expired.cycle_s >= 2.0 + expired.machine_s        # set off at once: the first had stepped in
