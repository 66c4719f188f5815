"""The 5,000-traveller memory soak through the real assembled appliance (simulator/soak.py): RSS
sampled every few travellers with its growth (slope over the last 4,000, first 1,000 vs last 1,000),
CPU per traveller, and every crossing exactly once at the BMIS. Timing model off (accelerated as far
as the CPU allows). Starts pcscd, so run it under the lock:

    flock /tmp/pcscd.lock .venv/bin/python -m bench soak --travellers 5000    # the issue's soak
    flock /tmp/pcscd.lock .venv/bin/python -m bench soak --heap              # 300 (as in `make bench`)

Options: --travellers N (300, so that `make bench` stays short; the issue's soak is 5000),
--sample-every K (25), --seed S (7), --faces DIR|bundled, --heap (tracemalloc: the Python heap,
whole and the appliance's code's share every --heap-every travellers; slows the run), --rss-pid PID
(sample another process, e.g. a separate gate-app; default this process, where the appliance runs
in-process), --out DIR (var/soak-bench). Exit 0 when every traveller ended as expected and the BMIS
got every crossing exactly once; the growth is reported.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.load import generate_travellers, load_people
from simulator.memory_probe import HeapProbe, ProcessProbe
from simulator.portraits import prepare_faces
from simulator.scenario import ScenarioError
from simulator.scenario_bench import Bench
from simulator.scenario_cmd import DEFAULT_FACES, collect_delivery
from simulator.scenario_run import ScenarioRunner, TravellerStuck
from simulator.soak import SoakSampler, SoakTally, soak_lines, soak_ok, soak_report


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=300)
    parser.add_argument("--sample-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faces", default=None)
    parser.add_argument("--heap", action="store_true")
    parser.add_argument("--heap-every", type=int, default=250)
    parser.add_argument("--rss-pid", default="self")
    parser.add_argument("--out", type=Path, default=Path("var/soak-bench"))
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    heap = HeapProbe().start() if args.heap else None
    with tempfile.TemporaryDirectory(prefix="soak-bench-") as workdir:
        rng = random.Random(args.seed)
        faces = prepare_faces(args.faces, DEFAULT_FACES, Path(workdir), rng)
        travellers = generate_travellers(args.travellers, load_people(faces.persons), rng)
        print(f"soak: {args.travellers} travellers, faces: {faces.describe()}, timing model off", flush=True)
        bench = Bench(Path(workdir) / "lane1", faces.root, seed=args.seed, pad=faces.source is not None)
        with bench:
            sampler = SoakSampler(ProcessProbe(args.rss_pid), heap, args.heap_every)
            tally, elapsed = walk(bench, travellers, sampler, args.sample_every)
            tally.delivery = collect_delivery(bench, [])
    if heap is not None:
        heap.stop()
    report = soak_report(tally, elapsed, args.rss_pid, heap is not None)
    print("\n".join(soak_lines(report)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(report, indent=2))
    print(f"report: {args.out / 'soak.json'}")
    return 0 if soak_ok(report) else 1


def walk(bench: Bench, travellers, sampler: SoakSampler, every: int) -> tuple[SoakTally, float]:
    """The travellers one after another; memory sampled before the first and every `every`."""
    runner = ScenarioRunner(bench, None)
    tally = SoakTally(len(travellers))
    tally.samples.append(sampler.sample(0))
    started = time.monotonic()
    try:
        for number, spec in enumerate(travellers, start=1):
            tally.count(number, runner.run_traveller(number, spec), lambda outcome: _exceptions(bench, outcome))
            if number % every == 0 or number == len(travellers):
                sample = sampler.sample(number)
                tally.samples.append(sample)
                if number % (every * 4) == 0:
                    print(f"  {number}: RSS {sample.rss_mb:.1f} MB, {time.monotonic() - started:.0f} s", flush=True)
    except (TravellerStuck, ScenarioError, OSError) as exc:
        tally.error = f"{type(exc).__name__}: {exc}"
    return tally, time.monotonic() - started


def _exceptions(bench: Bench, outcome) -> str:
    """The exceptions the crossing record names (why it was voided, say)."""
    for message in bench.consumer.messages(kind="events/crossing"):
        if message["msg_id"] == outcome.msg_id:
            return "record exceptions: " + ("; ".join(map(str, message["data"].get("exceptions") or [])) or "none")
    return ""


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
