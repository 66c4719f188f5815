"""`gatesim onestop FILE`: scripted travellers through a one-stop lane (issue 17) on the bench,
each authority's part checked in its own BMIS, and a search of what each BMIS received for the
other's alert data."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
import time
from pathlib import Path

from firmware_app.policy.onestop import Role
from simulator.onestop_bench import COUNTRIES, OnestopBench
from simulator.onestop_scenario import ONESTOP_KEYS, SECRETS, OnestopRunner, parse_onestop, staffed
from simulator.portraits import FaceSet
from simulator.scenario import Key, Kind, Scenario, ScenarioError, check_persons, read_scenario_document
from simulator.scenario_cmd import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_bench_options,
    delivery_of,
    print_delivery,
    with_faces,
)
from simulator.scenario_demo import SHARED_CAST

CHECKED = """\
Each traveller's outcome and each country's reasons are checked as the file expects. For a traveller
with an officer key or a country in assisted mode, each country's record must also name its own
officer and answer (officer_id, officer_decision), or no officer where that country's officer gave
none; an answer the officer could not give is a difference too. A country's registration_only or
closed is the lane's: the run also checks that a registration-only lane referred the traveller with
lane_manual_mode in both records and the see_officer screen, and that a closed lane showed the
closed screen, started no transaction and sent no record. Exit 0 when all is as expected,
1 on any difference, 2 on an unusable file.
Examples: simulator/scenarios/onestop/ (post.toml, officers.toml, assisted.toml); docs/onestop.md."""
SHIPPED = Path(__file__).resolve().parent / "scenarios" / "onestop" / "post.toml"     # `gatesim demo --onestop`


def register(groups) -> None:
    keys = "\n".join(_key_help(key) for key in ONESTOP_KEYS)
    cmd = groups.add_parser("onestop", help="run a scenario through a one-stop lane (two authorities, two BMIS)",
                            description="Walk scripted travellers through the assembled appliance configured as a "
                                        "one-stop lane: exit UTO, entry ARC, each with its own broker and BMIS.",
                            epilog="The keys of `gatesim scenario --help`, except alert, expect_reasons and officer, "
                                   "plus:\n" + keys + "\n" + CHECKED,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("file", type=Path, help="the scenario, .toml or .json")
    add_bench_options(cmd)
    cmd.set_defaults(func=run)


def _key_help(key: Key, width: int = 100) -> str:
    lines = [f"  {key.name} = {key.kind.value}, default {key.default}"]
    lines += textwrap.wrap(key.text, width, initial_indent="      ", subsequent_indent="      ")
    if key.kind is Kind.CHOICE:
        lines.append("      values: " + ", ".join(key.values))
    return "\n".join(lines)


def load(path: Path):
    return parse_onestop(read_scenario_document(path))


# The shipped post is written for the bundled portraits. With the shared photos present PAD is on, and
# Grace Hopper's portrait (a scanned print) is rightly taken for a presentation attack, so the demo
# casts the post's two people onto the shared people the single-lane demo uses live (its genuine
# traveller and its impostor's face), as that demo does.
DEMO_RECAST = {"collins": SHARED_CAST["genuine"], "hopper": SHARED_CAST["impostor_face"]}


def recast(travellers: list, persons: frozenset[str] | set[str]) -> list:
    """The demo's travellers played by the shared people when they are all there, else as written."""
    if not set(DEMO_RECAST.values()) <= set(persons):
        return travellers

    def played(name: str | None) -> str | None:
        return DEMO_RECAST.get(name, name) if name is not None else None
    return [dataclasses.replace(t, spec=dataclasses.replace(t.spec, person=played(t.spec.person),
                                                              impostor=played(t.spec.impostor)))
            for t in travellers]


def run(args: argparse.Namespace) -> int:
    try:
        travellers = load(args.file)
    except ScenarioError as exc:
        print(f"gatesim onestop: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def run_with(faces: FaceSet, workdir: Path) -> int:
        nonlocal travellers
        if getattr(args, "demo", False):
            travellers = recast(travellers, faces.persons)
        check_persons(Scenario(tuple(t.spec for t in travellers)), faces.persons)
        return _verdict(*_run(travellers, args, faces.root, workdir, faces.source is not None))
    return with_faces(args, run_with)


def _run(travellers, args, faces_dir: Path, workdir: Path, pad: bool):
    started = time.monotonic()
    with OnestopBench(workdir, faces_dir, vpcd_port=args.vpcd_port, framing=args.framing, seed=args.seed,
                      pad=pad, staffed=staffed(travellers)) as bench:
        consoles = ", each with its officer console" if bench.staffed else ""
        print(f"gatesim onestop {args.file}: appliance ready in {time.monotonic() - started:.1f} s "
              f"(exit {COUNTRIES[Role.EXIT]}, entry {COUNTRIES[Role.ENTRY]}, two mosquitto brokers{consoles})",
              flush=True)
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
