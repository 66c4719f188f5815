"""`gatesim load`: many generated travellers through the REAL assembled appliance(s), with the
timing model on, measuring what a test team accepting a gate asks for.

Each lane is a Bench (its own appliance, broker, BMIS consumer, reader pty, camera, gate); the lanes
of one process share one pcscd, whose vpcd reader has two slots (so at most two lanes a process: a
second vpcd reader in the same pcscd shares the first one's slot state, so cards show in the wrong
reader; measured, see docs/scenarios.md). Lanes run side by side in threads. More lanes run as
groups of two, each a child process with its own pcscd (simulator/load_groups.py).
With `hours`, each lane stops taking travellers once its modelled time (the sum of its lane cycles)
reaches that many hours. A sampler records the process's resident memory and CPU time while they run: the
appliances run inside this process (as `gatesim scenario` runs them), so the figures are those of
the appliance(s) together with the simulated devices and the reference BMIS consumer.
"""
from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from simulator.load_cpu import CpuShares
from simulator.memory_probe import ProcessProbe
from simulator.scenario import Chip, ScenarioError, TravellerSpec
from simulator.scenario_bench import Bench, BenchUnavailable
from simulator.scenario_run import ScenarioRunner, TravellerOutcome, TravellerStuck
from simulator.timing import TimingModel

GROUP_LANES = 2                # one pcscd's vpcd reader serves two slots: lanes in one process
MAX_LANES = 8                  # more run as groups of GROUP_LANES (each its own process and pcscd)
MAX_TRAVELLERS = 100_000
MAX_HOURS = 24.0
MIN_CYCLE_S = 2.0              # no lane turns a traveller round faster: bounds the travellers an --hours run needs
SAMPLE_S = 1.0
# the generated mix: (share, what differs from a genuine traveller, expected outcome, reasons)
MIX = (
    (0.86, {}, "passed", ()),
    (0.05, {"expired": True}, "rejected", ("document_expired",)),
    (0.04, {"impostor": True}, "referred", ("face_not_matched",)),
    (0.03, {"alert": True}, "referred", ("alert_list_hit",)),
    (0.02, {"behaviour": "tailgate"}, "tailgating", ()),
)


class LoadError(RuntimeError):
    """The load run cannot be done as asked (too many lanes, no people to show)."""


def default_timing(seed: int) -> TimingModel:
    """The issue's reference: 424 kbit/s; approach and placing 10x faster (the lane is idle)."""
    return TimingModel(chip_kbps=424, seed=seed, speedup=10.0)


# With the shared photo set: the people whose live photo passes the face and PAD stages in the demo
# (other people's live photos are flagged by PAD: right for them, noise for a load run)
SHARED_PEOPLE = ("person01", "person03", "person07", "person10", "person11")


def load_people(persons) -> list[str]:
    shared = [p for p in SHARED_PEOPLE if p in persons]
    return shared if len(shared) >= 2 else sorted(persons)


def generate_travellers(count: int, persons: list[str], rng: random.Random,
                        walking_only: bool = False) -> list[TravellerSpec]:
    """A seeded mix of travellers with PACE, extended-length chips, each with its expectation.
    `walking_only`: no tailgaters (gate-app as its own process hides the passage phases they need)."""
    if not persons:
        raise LoadError("no people to show the camera")
    travellers = []
    for number in range(1, count + 1):
        extra, expect, reasons = _pick(rng, len(persons) > 1, walking_only)
        person = rng.choice(persons)
        values = dict(extra)
        if values.pop("impostor", False):
            values["impostor"] = rng.choice([p for p in persons if p != person])
        travellers.append(TravellerSpec(f"generated {number}", person, chip=Chip.PACE, extended_length=True,
                                        expect=expect, expect_reasons=reasons, **_typed(values)))
    return travellers


def _pick(rng: random.Random, impostors: bool, walking_only: bool = False):
    mix = [m for m in MIX if (impostors or "impostor" not in m[1]) and not (walking_only and "behaviour" in m[1])]
    roll = rng.random() * sum(m[0] for m in mix)
    for share, extra, expect, reasons in mix:
        if roll < share:
            return extra, expect, reasons
        roll -= share
    return mix[0][1:]


def _typed(values: dict) -> dict:
    from simulator.scenario import Behaviour
    if "behaviour" in values:
        values["behaviour"] = Behaviour(values["behaviour"])
    return values


@dataclass
class Sample:
    t: float            # seconds since the start of the run (real)
    rss_mb: float
    cpu_s: float        # process CPU time (all threads)
    done: int           # travellers finished so far (all lanes)


class Sampler:
    """Resident memory and CPU of a process (by default this one), every SAMPLE_S, from /proc."""

    def __init__(self, done=lambda: 0, interval_s: float = SAMPLE_S, probe: ProcessProbe | None = None):
        self.samples: list[Sample] = []
        self._done, self._interval = done, interval_s
        self.probe = probe or ProcessProbe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self._start = time.monotonic()

    def start(self) -> Sampler:
        self._start = time.monotonic()
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sample()

    def sample(self) -> None:
        self.samples.append(Sample(time.monotonic() - self._start, self.probe.rss_mb(), self.probe.cpu_s(),
                                   self._done()))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()


def rss_mb() -> float:
    return ProcessProbe().rss_mb()


@dataclass
class LaneRun:
    lane: int
    outcomes: list[TravellerOutcome] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)      # real seconds since the start
    cpu_s: list[float] = field(default_factory=list)            # the traveller's share of the process CPU
    delivery: object = None
    error: str = ""
    gate_events: list = field(default_factory=list)             # GateWatch: sensor and lane transitions
    reached_hours: bool = False                                  # stopped by --hours, not by running out

    def modelled_s(self) -> float:
        """The lane's time in the timing model so far: its finished travellers' lane cycles."""
        return sum(o.cycle_s or 0.0 for o in self.outcomes)


def run_lane(bench: Bench, lane: LaneRun, travellers: list[TravellerSpec], timing: TimingModel,
             started: float, progress=lambda lane, number, outcome: None, cpu: CpuShares | None = None,
             until_s: float | None = None) -> None:
    """One lane's travellers in order; the lane's delivery is collected at the end. `cpu`: shared by
    the lanes running side by side, so that no traveller is charged the other lane's CPU. `until_s`:
    no new traveller once the lane's modelled time has reached it."""
    from simulator.load_breakdown import GateWatch
    from simulator.scenario_cmd import collect_delivery
    runner = ScenarioRunner(bench, timing)
    cpu = cpu or CpuShares()
    watch = GateWatch(bench).start()

    def done(number: int, front) -> None:
        outcome = runner.finish(front)
        lane.outcomes.append(outcome)
        lane.finished_at.append(time.monotonic() - started)
        progress(lane.lane, number, outcome)
    try:
        pending = None
        for number, spec in enumerate(travellers, start=1):
            if until_s is not None and lane.modelled_s() >= until_s:
                lane.reached_hours = True
                break
            cpu.start(lane.lane)            # the CPU of a traveller's tail counts in the next one's
            try:
                front = runner.start(number, spec, overlap=True)     # the next starts while they walk out
            finally:
                spent = cpu.end(lane.lane)      # a stuck traveller stops sharing the CPU too
            lane.cpu_s.append(spent)
            if pending is not None:
                done(*pending)
            pending = (number, front)
        if pending is not None:
            done(*pending)
    except (TravellerStuck, ScenarioError, OSError) as exc:
        lane.error = f"{type(exc).__name__}: {exc}"
    finally:
        watch.stop()
        lane.gate_events = watch.events
    lane.delivery = collect_delivery(bench, lane.outcomes)


def check_lanes(lanes: int, travellers: int) -> None:
    if not 1 <= lanes <= MAX_LANES:
        raise LoadError(f"--lanes must be 1 to {MAX_LANES} (more than {GROUP_LANES} run as groups of "
                        f"{GROUP_LANES}, each its own process and pcscd, sharing this machine's cores)")
    if not 1 <= travellers <= MAX_TRAVELLERS:
        raise LoadError(f"--travellers must be 1 to {MAX_TRAVELLERS}")


def travellers_for(hours: float | None, travellers: int | None, lanes: int) -> int:
    """How many travellers to generate: --travellers, or with --hours alone as many as the lanes could
    take in that time (each lane stops at its hours; the rest are never walked)."""
    if hours is not None and not 0 < hours <= MAX_HOURS:
        raise LoadError(f"--hours must be more than 0 and at most {MAX_HOURS:g}")
    if travellers is None:
        if hours is None:
            raise LoadError("give --travellers N, --hours H or both")
        return min(MAX_TRAVELLERS, lanes * math.ceil(hours * 3600.0 / MIN_CYCLE_S))
    return travellers


def split(travellers: list[TravellerSpec], lanes: int) -> list[list[TravellerSpec]]:
    return [travellers[lane::lanes] for lane in range(lanes)]


def shares_of(travellers: list[TravellerSpec], lanes: int, options: dict) -> list[list[TravellerSpec]]:
    """This process's lanes' shares: lanes first_lane.. of a run on group_of lanes (a group of a
    larger run gets exactly the travellers those lanes would get in one process)."""
    first, total = options.get("first_lane", 1), options.get("group_of", lanes)
    return split(travellers, total)[first - 1:first - 1 + lanes]


def run_load(workdir: Path, faces, travellers: list[TravellerSpec], lanes: int, timing: TimingModel,
             bench_options: dict, progress=lambda lane, number, outcome: None,
             hours: float | None = None, ready=lambda: None) -> tuple[list[LaneRun], Sampler, float]:
    """Start the lanes' benches, walk each lane's share of the travellers (each lane until `hours` of
    modelled time, if given), sample memory and CPU. `ready()` is called once the benches are up,
    before any traveller walks (a group waits there for its siblings)."""
    benches: list[Bench] = []
    first = bench_options.get("first_lane", 1)
    runs = [LaneRun(lane) for lane in range(first, first + lanes)]
    try:
        for lane in range(lanes):
            benches.append(_bench(workdir, faces, lane, benches, timing, bench_options))
        ready()
        sampler = Sampler(lambda: sum(len(r.outcomes) for r in runs)).start()
        started = time.monotonic()
        cpu = CpuShares()
        until_s = None if hours is None else hours * 3600.0
        threads = [threading.Thread(target=run_lane, name=f"lane-{run.lane}", daemon=True,
                                    args=(bench, run, share, timing, started, progress, cpu, until_s))
                   for bench, run, share in zip(benches, runs, shares_of(travellers, lanes, bench_options))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        sampler.stop()
    finally:
        for bench in reversed(benches):
            bench.stop()
    return runs, sampler, elapsed


def _bench(workdir: Path, faces, lane: int, benches: list[Bench], timing: TimingModel, options: dict) -> Bench:
    """Lane 1 starts the pcscd (unless one is given); lane 2 uses its second vpcd slot. Workdir and
    seed follow the lane's number in the whole run (`first_lane`: a group's first)."""
    vpcd_port = options.get("vpcd_port")
    if lane and vpcd_port is None:
        vpcd_port = benches[0].vpcd_port
    number = options.get("first_lane", 1) + lane
    bench = Bench(workdir / f"lane{number}", faces.root, vpcd_port=vpcd_port, framing=options["framing"],
                  seed=options["seed"] + number - 1, pad=faces.source is not None, timing=timing, slot=lane)
    try:
        bench.start()
    except BaseException:
        bench.stop()
        raise
    return bench


__all__ = ["GROUP_LANES", "BenchUnavailable", "LoadError", "check_lanes", "default_timing", "generate_travellers",
           "run_load", "travellers_for"]
