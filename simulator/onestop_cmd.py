"""`gatesim onestop FILE`: scripted travellers through a one-stop lane (issue 17) on the bench,
each authority's part checked in its own BMIS, and a search of what each BMIS received for the
other's alert data."""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from firmware_app.policy.onestop import Role
from simulator.onestop_bench import COUNTRIES, OnestopBench
from simulator.onestop_scenario import ONESTOP_KEYS, SECRETS, OnestopRunner, parse_onestop
from simulator.portraits import PortraitUnavailable, prepare_faces
from simulator.scenario import Scenario, ScenarioError, check_persons
from simulator.scenario_bench import BenchUnavailable
from simulator.scenario_cmd import (
    DEFAULT_FACES,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_bench_options,
    delivery_of,
    print_delivery,
)
from simulator.scenario_run import TravellerStuck
from simulator.vchip.pcscd import PcscdUnavailable

SHIPPED = Path(__file__).resolve().parent / "scenarios" / "onestop" / "post.toml"     # `gatesim demo --onestop`


def register(groups) -> None:
    keys = "\n".join(f"  {k.name} = {k.kind.value}, default {k.default}\n      {k.text}" for k in ONESTOP_KEYS)
    cmd = groups.add_parser("onestop", help="run a scenario through a one-stop lane (two authorities, two BMIS)",
                            description="Walk scripted travellers through the assembled appliance configured as a "
                                        "one-stop lane: exit UTO, entry ARC, each with its own broker and BMIS.",
                            epilog="The keys of `gatesim scenario --help`, except alert and expect_reasons, plus:\n"
                                   + keys + "\nExample: simulator/scenarios/onestop/post.toml; docs/onestop.md.",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("file", type=Path, help="the scenario, .toml or .json")
    add_bench_options(cmd)
    cmd.set_defaults(func=run)


def load(path: Path):
    try:
        text = Path(path).read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    return parse_onestop(document)


def run(args: argparse.Namespace) -> int:
    try:
        travellers = load(args.file)
    except ScenarioError as exc:
        print(f"gatesim onestop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL,
                        format="    [%(name)s %(levelname)s] %(message)s")
    with tempfile.TemporaryDirectory(prefix="gatesim-") as workdir:
        try:
            faces = prepare_faces(args.faces, DEFAULT_FACES, Path(workdir), random.Random(args.seed))
            print(f"faces: {faces.describe()}", flush=True)
            check_persons(Scenario(tuple(t.spec for t in travellers)), faces.persons)
            outcomes, deliveries, leaks = _run(travellers, args, faces.root, Path(workdir), faces.source is not None)
        except (BenchUnavailable, ScenarioError, PcscdUnavailable, PortraitUnavailable, OSError) as exc:
            print(f"gatesim: cannot run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except TravellerStuck as exc:
            print(f"gatesim: FAILED: {exc}", file=sys.stderr)
            return EXIT_FAILED
    return _verdict(outcomes, deliveries, leaks)


def _run(travellers, args, faces_dir: Path, workdir: Path, pad: bool):
    started = time.monotonic()
    with OnestopBench(workdir, faces_dir, vpcd_port=args.vpcd_port, framing=args.framing, seed=args.seed,
                      pad=pad) as bench:
        print(f"gatesim onestop {args.file}: appliance ready in {time.monotonic() - started:.1f} s "
              f"(exit {COUNTRIES[Role.EXIT]}, entry {COUNTRIES[Role.ENTRY]}, two mosquitto brokers)", flush=True)
        runner = OnestopRunner(bench)
        outcomes = runner.run_onestop(travellers, lambda outcome, number: print(outcome.line(number), flush=True))
        deliveries = {role: delivery_of(bench.appliance.bmis.sides[role].link, bench.consumers[role])
                      for role in Role}
        leaks = _leaks(bench)
    return outcomes, deliveries, leaks


def _leaks(bench: OnestopBench) -> list[str]:
    """Each authority's alert data found in what the other's BMIS received."""
    found = []
    for role in Role:
        other = Role.ENTRY if role is Role.EXIT else Role.EXIT
        received = json.dumps(bench.consumers[other].messages())
        found += [f"{role.value}'s {secret!r} reached the {other.value} BMIS" for secret in SECRETS[role]
                  if secret in received]
    return found


def _verdict(outcomes, deliveries, leaks) -> int:
    for role, delivery in deliveries.items():
        print(f"{role.value} ({COUNTRIES[role]}) BMIS:")
        print_delivery(delivery)
    print(f"cross-authority alert data: {'; '.join(leaks) if leaks else 'none found'}")
    for number, outcome in enumerate(outcomes, start=1):
        if outcome.differences():
            print(f"differs: traveller {number} ({outcome.lane.label}): {'; '.join(outcome.differences())}")
    ok = (not leaks and all(not o.differences() for o in outcomes)
          and all(d.exactly_once for d in deliveries.values()))
    print(f"result: {'all travellers as expected' if ok else 'FAILED'}")
    return EXIT_OK if ok else EXIT_FAILED
