"""Power cuts on the scenario bench: boot-to-in-service time and crossings kept across the cuts.

    flock /tmp/pcscd.lock .venv/bin/python -m bench power_cut [--rounds N]

Runs simulator/scenarios/power.toml (gate-app and gate-safety as their own processes, SIGKILLed
between travellers, while the chip is read, while the face is compared and as the doors open; the
bundled portraits, PAD off) N times. Prints per cut the time from the boot (gate-safety started
again) to READY=1 and to the lane in service (idle, and a BMIS request-status answered), then the
median and max over all cuts, and the crossings stored at the gate before a cut against those the
BMIS received exactly once. Exit 1 when a run differs from the scenario's expectations.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import load_scenario
from simulator.scenario_cmd import run_scenario, without_pad
from simulator.scenario_library import LIBRARY


def _one_run(workdir: Path) -> tuple[list[tuple[float, float]], int, int, bool]:
    faces = prepare_faces(BUNDLED, workdir / "none", workdir / "faces", random.Random(7))
    scenario = without_pad(load_scenario(LIBRARY / "power.toml"))
    args = argparse.Namespace(vpcd_port=None, framing="cute", seed=7)
    outcomes, delivery = run_scenario(scenario, args, faces.root, workdir / "run", "power cuts", pad=False)
    cuts = []
    for fault in delivery.faults:
        ready = re.search(r"READY=1 after ([0-9.]+)s", " ".join(fault.notes))
        cuts.append((float(ready.group(1)) if ready else float("nan"), fault.in_service_s or float("nan")))
    stored = len(delivery.stored_before_cuts)
    arrived = sum(delivery.crossings_per_transaction.get(t) == 1 for t in delivery.stored_before_cuts)
    ok = all(o.as_expected for o in outcomes) and delivery.exactly_once and \
        not any(f.differences() for f in delivery.faults)
    return cuts, stored, arrived, ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench power_cut")
    parser.add_argument("--rounds", type=int, default=1)
    rounds = parser.parse_args(argv).rounds
    all_cuts, stored, arrived, ok = [], 0, 0, True
    for round_ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="power-cut-bench-") as workdir:
            (Path(workdir) / "run").mkdir()
            cuts, s, a, fine = _one_run(Path(workdir))
        for number, (ready, in_service) in enumerate(cuts, 1):
            print(f"round {round_ + 1} cut {number}: READY=1 {ready:.2f} s, in service {in_service:.2f} s after boot")
        all_cuts += cuts
        stored, arrived, ok = stored + s, arrived + a, ok and fine
    in_service = [c[1] for c in all_cuts]
    print(f"boot to in service over {len(in_service)} cuts: median {statistics.median(in_service):.2f} s, "
          f"max {max(in_service):.2f} s (READY=1 median {statistics.median(c[0] for c in all_cuts):.2f} s)")
    print(f"crossings stored at the gate before a cut: {stored}; at the BMIS exactly once: {arrived}")
    print(f"scenario as expected: {'yes' if ok else 'NO'}")
    return 0 if ok and stored == arrived else 1
