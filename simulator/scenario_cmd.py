"""`gatesim scenario FILE`: run a scripted scenario (TOML or JSON) through the assembled appliance.

Exit codes: 0 every traveller ended as expected and the BMIS got every message exactly once,
1 an outcome or the delivery check failed, 2 the file is unusable or a needed service is missing.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from simulator.fault_timeline import FaultTimeline
from simulator.portraits import FaceSet, PortraitUnavailable, prepare_faces
from simulator.scenario import Scenario, ScenarioError, check_persons, load_scenario
from simulator.scenario_bench import DEVICE_ID, PROJECT_ROOT, Bench, BenchUnavailable
from simulator.scenario_help import keys_help
from simulator.scenario_run import ScenarioRunner, TravellerOutcome, TravellerStuck
from simulator.vchip.pcscd import PcscdUnavailable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_FACES = PROJECT_ROOT.parent / "shared" / "data" / "faces"
DRAIN_S = 10.0


@dataclass
class Delivery:
    """What the reference BMIS consumer received from the gate."""
    by_kind: dict[str, int]
    stored: int
    duplicates_removed: int
    invalid: int
    seq_gaps: list[int]
    pending_at_gate: int
    crossings_per_transaction: dict[str, int]
    alarm_kinds: list[str]
    faults: list = dataclasses.field(default_factory=list)     # the fault timeline's results
    stored_before_cuts: frozenset[str] = frozenset()   # crossings in the outbox when the power went

    @property
    def exactly_once(self) -> bool:
        return (not self.seq_gaps and self.pending_at_gate == 0 and self.invalid == 0
                and all(n == 1 for n in self.crossings_per_transaction.values())
                and all(self.crossings_per_transaction.get(t) == 1 for t in self.stored_before_cuts))


def add_bench_options(cmd) -> None:
    cmd.add_argument("--faces", default=None, metavar="DIR|bundled",
                     help="folder of per-person photo folders (img1 the chip portrait, img2 the live face); "
                          "default ../shared/data/faces when it exists. The bundled public-domain portraits "
                          "(persons 'hopper' and 'collins', see NOTICE.md) are always there too; "
                          "'--faces bundled' uses only them")
    cmd.add_argument("--framing", choices=["cute", "rte", "lines"], default="cute",
                     help="the passport reader's serial framing (default cute)")
    cmd.add_argument("--seed", type=int, default=7,
                     help="seed of the reader faults and the live frames made from the portraits (default 7)")
    cmd.add_argument("--vpcd-port", type=int, help="use a running pcscd's vpcd on this port instead of starting one")
    cmd.add_argument("--verbose", action="store_true", help="show the appliance's log (WARNING and up)")


def register(groups) -> None:
    cmd = groups.add_parser("scenario", help="run a scripted scenario (TOML/JSON) through the appliance",
                            description="Run scripted travellers through the REAL assembled appliance on "
                                        "simulated devices, and check each one's outcome.",
                            epilog=keys_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("file", type=Path, help="the scenario, .toml or .json")
    add_bench_options(cmd)
    cmd.add_argument("--own-process", action="store_true",
                     help="run the appliance as its own gate-app process (with gate-safety holding the "
                          "simulated pins), as a scenario with a power_cut fault always does")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.file)
    except ScenarioError as exc:
        print(f"gatesim scenario: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_on_bench(lambda faces: scenario, args, f"gatesim scenario {args.file}")


def run_on_bench(scenario_for: Callable[[FaceSet], Scenario], args: argparse.Namespace, title: str) -> int:
    """Prepare the faces, pick the scenario for them, and run it on a fresh bench."""
    def run_with(faces: FaceSet, workdir: Path) -> int:
        scenario = without_pad(scenario_for(faces)) if faces.source is None else scenario_for(faces)
        check_persons(scenario, faces.persons)
        for note in scenario.skipped:
            print(f"skipped: {note}", flush=True)
        outcomes, delivery = run_scenario(scenario, args, faces.root, workdir, title, pad=faces.source is not None)
        return _verdict(outcomes, delivery)
    return with_faces(args, run_with)


def with_faces(args: argparse.Namespace, work: Callable[[FaceSet, Path], int]) -> int:
    """The set-up every bench command shares: the console log level, a scratch directory, the face
    photos for the run, and the exit code for a bench that cannot run or a traveller that got stuck."""
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL,
                        format="    [%(name)s %(levelname)s] %(message)s")
    with tempfile.TemporaryDirectory(prefix="gatesim-") as workdir:
        try:
            faces = prepare_faces(args.faces, DEFAULT_FACES, Path(workdir), random.Random(args.seed))
            print(f"faces: {faces.describe()}", flush=True)
            return work(faces, Path(workdir))
        except (BenchUnavailable, ScenarioError, PcscdUnavailable, PortraitUnavailable, OSError) as exc:
            print(f"gatesim: cannot run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except TravellerStuck as exc:
            print(f"gatesim: FAILED: {exc}", file=sys.stderr)
            return EXIT_FAILED


def _verdict(outcomes: list[TravellerOutcome], delivery: Delivery) -> int:
    print_delivery(delivery)
    for number, outcome in enumerate(outcomes, start=1):
        if not outcome.as_expected:
            print(f"differs: traveller {number} ({outcome.label}): {'; '.join(outcome.differences())}")
    for number, fault in enumerate(delivery.faults, start=1):
        print(fault.line(number))
    ok = all(o.as_expected for o in outcomes) and delivery.exactly_once and \
        not any(fault.differences() for fault in delivery.faults)
    print(f"result: {'all travellers as expected' if ok else 'FAILED'}")
    return EXIT_OK if ok else EXIT_FAILED


def without_pad(scenario: Scenario) -> Scenario:
    """Bundled portraits only: they are photographs of photographs, which the PAD stage rightly
    refers as attacks, so these runs switch PAD off (said on the console) and skip attack travellers."""
    print("PAD: OFF for this run (only the bundled portraits, which are reproduced photographs)", flush=True)
    kept = tuple(t for t in scenario.travellers if t.presentation_attack is None)
    skipped = tuple(f"{t.label}: a presentation attack needs PAD, which is off with the bundled portraits"
                    for t in scenario.travellers if t.presentation_attack is not None)
    return dataclasses.replace(scenario, travellers=kept, skipped=scenario.skipped + skipped)


def run_scenario(scenario: Scenario, args, faces_dir: Path, workdir: Path,
                 title: str, pad: bool = True, pcscd=None,
                 watch: Callable[[Bench, ScenarioRunner], None] | None = None,
                 ) -> tuple[list[TravellerOutcome], Delivery]:
    """`pcscd`: the caller's own pcscd (its port is args.vpcd_port), which pcscd_kill faults may restart;
    `watch`: told the bench and the runner before the first traveller (tests/test_personal_data_e2e.py)."""
    started = time.monotonic()
    bench_class, runner_class, parts = _bench_for(scenario, args)
    with bench_class(workdir, faces_dir, vpcd_port=args.vpcd_port, framing=args.framing, seed=args.seed,
                     pad=pad, timing=scenario.timing, pcscd=pcscd, post=scenario.post) as bench:
        print(f"{title}: appliance ready in {time.monotonic() - started:.1f} s ({parts})", flush=True)
        if scenario.post is not None and scenario.post.pad_required and not pad:
            print("PAD: ON after all, required by the scenario's [post] table", flush=True)
        runner = runner_class(bench, scenario.timing)
        if watch is not None:
            watch(bench, runner)
        timeline = _timeline(bench, runner, scenario)
        try:
            outcomes = runner.run(scenario, lambda outcome, number: print(outcome.line(number), flush=True))
        finally:
            timeline.finish()
        delivery = collect_delivery(bench, outcomes)
        delivery.faults = timeline.results(delivery.alarm_kinds)
    return outcomes, delivery


def _bench_for(scenario: Scenario, args) -> tuple[type, type, str]:
    """The appliance in this process, or as its own gate-app process (power cuts need one)."""
    from simulator.faults import FaultKind
    if getattr(args, "own_process", False) or any(f.kind is FaultKind.POWER_CUT for f in scenario.faults):
        from simulator.gate_app_bench import GateAppBench
        from simulator.gate_app_run import GateAppRunner, check_scenario
        check_scenario(scenario)
        return GateAppBench, GateAppRunner, ("gate-app and gate-safety as their own processes: reader pty, "
                                             "pcscd+vpcd chip, dir:// camera, MockFactory pins in gate-safety, "
                                             "kiosk, mosquitto TLS")
    return Bench, ScenarioRunner, "reader pty, pcscd+vpcd chip, scene camera, MockFactory gate, kiosk, mosquitto TLS"


def _timeline(bench: Bench, runner: ScenarioRunner, scenario: Scenario) -> FaultTimeline:
    """The scenario's [[fault]] timeline, hooked before each traveller and started with the first."""
    def document_number(number: int) -> str:
        return runner.document_number(number, scenario.travellers[number - 1])
    timeline = FaultTimeline(bench, scenario.faults, document_number, runner.next_alert_version)
    runner.before_traveller = timeline.before_traveller
    timeline.start()
    return timeline


def collect_delivery(bench: Bench, outcomes: list[TravellerOutcome]) -> Delivery:
    from simulator.gate_app_bench import GateAppBench
    if isinstance(bench, GateAppBench):
        from simulator.gate_app_bench import delivery_of_process
        return delivery_of_process(bench)
    return delivery_of(bench.appliance.bmis.link, bench.consumer)


def delivery_of(link, consumer) -> Delivery:
    """What `consumer` received of `link`'s messages, once the link has drained and stopped."""
    link.stop(drain_timeout_s=DRAIN_S)    # orderly: the gate sends its offline status (the Last Will's seq)
    return received_by(consumer, lambda: link.outbox.counts().pending)


def received_by(consumer, pending_at_gate) -> Delivery:
    """What `consumer` holds of the gate's messages once they stop coming; `pending_at_gate()`: the
    gate's outbox backlog then."""
    _settle(lambda: consumer.counts().stored)
    by_kind: dict[str, int] = {}
    crossings: dict[str, int] = {}
    alarms: list[str] = []
    for message in consumer.messages(device_id=DEVICE_ID):
        by_kind[message["kind"]] = by_kind.get(message["kind"], 0) + 1
        if message["kind"] == "events/crossing":
            txn = message["data"]["transaction_id"]
            crossings[txn] = crossings.get(txn, 0) + 1
        elif message["kind"] == "alarms":
            alarms.append(message["data"]["kind"])
    counts = consumer.counts()
    return Delivery(by_kind, counts.stored, counts.duplicates, counts.invalid, consumer.seq_gaps(DEVICE_ID),
                    pending_at_gate(), crossings, alarms)


def _settle(read, quiet_s: float = 0.3, timeout_s: float = DRAIN_S) -> None:
    """Wait until a count stops changing (messages in flight have arrived)."""
    deadline, last, since = time.monotonic() + timeout_s, read(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.05)
        now = read()
        if now != last:
            last, since = now, time.monotonic()


def print_delivery(delivery: Delivery) -> None:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(delivery.by_kind.items()))
    print(f"BMIS consumer received {delivery.stored} messages ({kinds}); duplicates removed "
          f"{delivery.duplicates_removed}; invalid {delivery.invalid}; seq gaps {delivery.seq_gaps or 'none'}; "
          f"left at the gate {delivery.pending_at_gate}")
    print(f"alarms: {', '.join(delivery.alarm_kinds) or 'none'}")
    if delivery.stored_before_cuts:
        arrived = sum(delivery.crossings_per_transaction.get(t) == 1 for t in delivery.stored_before_cuts)
        print(f"crossings stored at the gate before a power cut: {len(delivery.stored_before_cuts)}, "
              f"at the BMIS exactly once: {arrived}")
    print(f"each msg_id exactly once: {'yes' if delivery.exactly_once else 'NO'} "
          f"({len(delivery.crossings_per_transaction)} crossing records, one per transaction)")
