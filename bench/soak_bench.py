"""The 5,000-traveller memory soak through the real assembled appliance (simulator/soak.py): the
appliance runs as a device runs it, `gate-app` (and `gate-safety`) as their own processes, and the
RSS of the gate-app process alone is sampled every few travellers (the appliance is what must not
grow; the simulator's devices, virtual chip and BMIS consumer stay in this process). Printed: RSS at
the start, after the warm-up, every 500 travellers, the slope per 1,000 after the warm-up, first
1,000 vs last 1,000, CPU per traveller, and every crossing exactly once at the BMIS. Timing model off
(accelerated as far as the CPU allows). Starts pcscd, so run it under the lock:

    flock /tmp/pcscd.lock .venv/bin/python -m bench soak --travellers 5000    # the issue's soak
    flock /tmp/pcscd.lock .venv/bin/python -m bench soak --heap              # 300 (as in `make bench`)

Options: --travellers N (300, so that `make bench` stays short; the issue's soak is 5000),
--warmup N (1000; a shorter run: 20% of it), --sample-every K (25), --seed S (7),
--faces DIR|bundled, --in-process (the appliance in this process, next to the simulator, as before:
RSS then mixes both; tailgaters only there), --heap (tracemalloc; own process: gate-app traces its
heap (GATE_APP_MEMTRACE) and the top growing allocation sites and object types between the warm-up
and the end are printed, with SQLite's and malloc's own figures after the warm-up, every
--heap-dump-every (500) and at the end; --heap-frames 0: no tracemalloc, full speed, those figures
and object counts only;
in-process: the Python heap whole and the appliance code's share every --heap-every travellers;
slows the run), --rss-pid PID (sample that process instead),
--out DIR (var/soak-bench). Exit 0 when every traveller ended as expected and the BMIS got every
crossing exactly once; the growth is reported.
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
from simulator.memory_probe import ChildrenProbe, HeapProbe, ProcessProbe
from simulator.portraits import prepare_faces
from simulator.scenario import ScenarioError
from simulator.scenario_bench import Bench
from simulator.scenario_cmd import DEFAULT_FACES, collect_delivery
from simulator.scenario_run import ScenarioRunner, TravellerStuck
from simulator.soak import SERIES_EVERY, SoakSampler, SoakTally, soak_lines, soak_ok, soak_report, warmup_of


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--sample-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faces", default=None)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--heap", action="store_true")
    parser.add_argument("--heap-every", type=int, default=250)
    parser.add_argument("--heap-frames", type=int, default=12)
    parser.add_argument("--heap-dump-every", type=int, default=SERIES_EVERY)
    parser.add_argument("--rss-pid", default=None)
    parser.add_argument("--out", type=Path, default=Path("var/soak-bench"))
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    heap = HeapProbe().start() if args.heap and args.in_process else None
    with tempfile.TemporaryDirectory(prefix="soak-bench-") as workdir:
        rng = random.Random(args.seed)
        faces = prepare_faces(args.faces, DEFAULT_FACES, Path(workdir), rng)
        travellers = generate_travellers(args.travellers, load_people(faces.persons), rng,
                                         walking_only=not args.in_process)
        print(f"soak: {args.travellers} travellers, faces: {faces.describe()}, timing model off, appliance "
              f"{'in this process' if args.in_process else 'as its own gate-app process'}", flush=True)
        bench, runner_type = _bench(args, Path(workdir), faces)
        with bench:
            pid, scope = _watched(args, bench)
            trace = _memtrace(args, bench)
            sampler = SoakSampler(ProcessProbe(pid), heap, args.heap_every, _others(args, bench))
            warmup = warmup_of(args.travellers, args.warmup)

            def dump(done: int) -> None:
                if trace is not None and _dump_at(done, warmup, len(travellers), args.heap_dump_every):
                    trace.snapshot(done)
            tally, elapsed = walk(bench, runner_type(bench, None), travellers, sampler, args.sample_every, dump)
            heap_lines = trace.diff_lines() if trace else []
            tally.delivery = collect_delivery(bench, [])
    if heap is not None:
        heap.stop()
    report = soak_report(tally, elapsed, pid, heap is not None, args.warmup, scope)
    print("\n".join(soak_lines(report) + heap_lines))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(report, indent=2))
    print(f"report: {args.out / 'soak.json'}")
    return 0 if soak_ok(report) else 1


def _bench(args, workdir: Path, faces) -> tuple[Bench, type]:
    """The in-process bench, or gate-app (and gate-safety) as their own processes (the default)."""
    kwargs = {"seed": args.seed, "pad": faces.source is not None}
    if args.in_process:
        return Bench(workdir / "lane1", faces.root, **kwargs), ScenarioRunner
    from simulator.gate_app_bench import GateAppBench
    from simulator.gate_app_run import GateAppRunner
    bench = GateAppBench(workdir / "lane1", faces.root, **kwargs)
    if args.heap:
        bench.app_env.update(GATE_APP_MEMTRACE=str(workdir / "memtrace"),
                             GATE_APP_MEMTRACE_FRAMES=str(args.heap_frames))
    return bench, GateAppRunner


def _watched(args, bench: Bench) -> tuple[int | str, str | None]:
    """The process whose RSS is sampled, and what it holds."""
    if args.rss_pid is not None:
        return args.rss_pid, None
    if args.in_process:
        return "self", None
    pid = bench.app.process.pid
    return pid, f"gate-app (pid {pid}) alone: the appliance as a device runs it"


def _dump_at(done: int, warmup: int, total: int, every: int) -> bool:
    """gate-app's heap dumps: after the warm-up, every `every` travellers after it, and at the end."""
    return done in (warmup, total) or (done > warmup and done % every == 0)


def _others(args, bench: Bench) -> dict:
    """The device's other processes: gate-safety and gate-app's children (the image decode worker)."""
    if args.in_process:
        return {}
    return {"gate-safety": ProcessProbe(bench.safety.process.pid).rss_mb,
            "gate-app's children (image decode worker)": ChildrenProbe(bench.app.process.pid).rss_mb}


def _memtrace(args, bench: Bench):
    if args.in_process or not args.heap:
        return None
    from simulator.memtrace_diff import MemtraceClient
    return MemtraceClient(bench.app.process, Path(bench.app_env["GATE_APP_MEMTRACE"]))


def walk(bench: Bench, runner: ScenarioRunner, travellers, sampler: SoakSampler, every: int,
         at=lambda done: None) -> tuple[SoakTally, float]:
    """The travellers one after another; memory sampled before the first and every `every`;
    `at(done)` after each traveller (the heap snapshots)."""
    tally = SoakTally(len(travellers))
    tally.samples.append(sampler.sample(0))
    started = time.monotonic()
    try:
        for number, spec in enumerate(travellers, start=1):
            tally.count(number, runner.run_traveller(number, spec), lambda outcome: _exceptions(bench, outcome))
            if number % every == 0 or number == len(travellers):
                sample = sampler.sample(number)
                tally.samples.append(sample)
                if number % SERIES_EVERY == 0 or number % (every * 4) == 0:
                    print(f"  {number}: RSS {sample.rss_mb:.1f} MB, {time.monotonic() - started:.0f} s", flush=True)
            at(number)
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
