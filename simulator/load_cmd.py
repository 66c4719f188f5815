"""`gatesim load --travellers N [--lanes M] [--hours H] [--seed S] [--out DIR]`: generated travellers
through the real assembled appliance(s) with the timing model on; reports in DIR (JSON, JUnit XML,
summary, PNG). Up to 2 lanes run in this process (one pcscd's vpcd reader has two slots); 3 to 8
lanes run as groups of two, each a child process with its own pcscd in its own mount namespace
(root: `unshare -m`; otherwise a user namespace, `unshare -Urm`; neither: refused), merged into one
report. Lanes beyond the machine's cores share CPU: their machine times are not comparable to the
target (the summary says so).
With --hours H each lane takes travellers until H hours of its modelled time have passed (the sum
of its lane cycles, approach and placing included at their modelled length), so a shift of a lane
runs in accelerated time; --travellers then caps the count.

Exit codes: 0 every traveller ended as expected and the BMIS received every crossing exactly once
(the speed targets are reported, met or MISSED, in the summary and the JUnit file), 1 otherwise,
2 unusable options or a missing service.
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from pathlib import Path

from simulator.load import (
    GROUP_LANES,
    LoadError,
    check_lanes,
    default_timing,
    generate_travellers,
    load_people,
    run_load,
    travellers_for,
)
from simulator.load_groups import GO, READY, Namespacing, namespacing, plan, run_groups
from simulator.load_merge import contention_note, cores, grouped, merge, write_raw
from simulator.load_report import ok, summarise, summary_text, write_reports
from simulator.portraits import PortraitUnavailable, prepare_faces
from simulator.scenario_bench import BenchUnavailable
from simulator.scenario_cmd import DEFAULT_FACES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from simulator.timing import CHIP_RATES_KBPS, KEY_HELP, TimingError, TimingModel, timing_from
from simulator.vchip.pcscd import PcscdProcess, PcscdUnavailable


def register(groups) -> None:
    cmd = groups.add_parser("load", help="load run: generated travellers, timing model on, reports and charts",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("--travellers", type=int, help="how many travellers (all lanes; with --hours: at most)")
    cmd.add_argument("--lanes", type=int, default=1,
                     help="lanes side by side, each its own appliance (1-8; more than 2: groups of two, each "
                          "its own process, pcscd and mount namespace)")
    cmd.add_argument("--hours", type=float, help="each lane runs this many hours of modelled time (up to 24)")
    cmd.add_argument("--seed", type=int, default=7, help="seed of the traveller mix, human times, live frames")
    cmd.add_argument("--out", type=Path, default=Path("var/load"), help="report folder (default var/load)")
    cmd.add_argument("--chip-kbps", type=int, choices=CHIP_RATES_KBPS, default=424, help="chip bit rate")
    cmd.add_argument("--speedup", type=float, default=10.0,
                     help="approach and placing run this many times faster (lane idle; default 10, 1 = all real)")
    cmd.add_argument("--timing", action="append", default=[], metavar="KEY=VALUE",
                     help="change one timing model value (keys as in a scenario's [timing] table), e.g. "
                          "--timing door_motor_s=0.2; repeatable")
    cmd.add_argument("--faces", default=None, metavar="DIR|bundled", help="as for `gatesim scenario`")
    cmd.add_argument("--framing", choices=["cute", "rte", "lines"], default="cute")
    cmd.add_argument("--vpcd-port", type=int, help="use a running pcscd's vpcd on this port")
    cmd.add_argument("--verbose", action="store_true", help="the appliance's log (WARNING and up)")
    # a group of a many-lane run (simulator/load_groups.py starts it; not for people)
    for name, kind in (("--group-of", int), ("--group-first-lane", int), ("--group-vpcd", int), ("--group-raw", Path)):
        cmd.add_argument(name, type=kind, help=argparse.SUPPRESS)
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL,
                        format="    [%(name)s %(levelname)s] %(message)s")
    try:
        args.travellers = travellers_for(args.hours, args.travellers, args.group_of or args.lanes)
        check_lanes(args.lanes, args.travellers)
        timing = timing_of(args)
        namespaces = grouping(args)
    except (LoadError, TimingError) as exc:
        print(f"gatesim load: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.group_raw is not None:
        return run_group(args, timing)
    with tempfile.TemporaryDirectory(prefix="gatesim-load-") as workdir:
        try:
            report, runs = _run(args, timing, Path(workdir)) if namespaces is None else \
                run_grouped(args, timing, Path(workdir), namespaces)
        except (BenchUnavailable, PcscdUnavailable, PortraitUnavailable, LoadError, OSError) as exc:
            print(f"gatesim load: cannot run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    print(summary_text(report))
    written = write_reports(report, runs, args.out)
    print("reports: " + ", ".join(str(p) for p in written))
    return EXIT_OK if ok(report) else EXIT_FAILED


def timing_of(args) -> TimingModel:
    """The load's default model (424 kbit/s, speedup 10), the options, then each --timing KEY=VALUE."""
    values = {name: getattr(default_timing(args.seed), name) for name in KEY_HELP}
    values.update(chip_kbps=args.chip_kbps, speedup=args.speedup)
    for item in args.timing:
        key, sep, text = item.partition("=")
        try:
            values[key.strip()] = float(text) if sep else None
        except ValueError:
            raise TimingError(f"--timing {item!r}: the value must be a number") from None
    return timing_from(values)


def grouping(args) -> Namespacing | None:
    """None: the lanes run in this process; else how the groups get their mount namespaces."""
    if args.group_raw is not None or args.lanes <= GROUP_LANES:
        return None
    if args.vpcd_port is not None:
        raise LoadError(f"--vpcd-port names one running pcscd, which serves at most {GROUP_LANES} lanes")
    return namespacing()


def _people(args, workdir: Path, say: bool = True):
    rng = random.Random(args.seed)
    faces = prepare_faces(args.faces, DEFAULT_FACES, workdir, rng)
    if say:
        print(f"faces: {faces.describe()}", flush=True)
        if faces.source is None:
            print("PAD: OFF for this run (only the bundled portraits, which are reproduced photographs)", flush=True)
    return faces, generate_travellers(args.travellers, load_people(faces.persons), rng)


def _announce(args, timing, groups: int = 1) -> None:
    how_many = f"{args.travellers} travellers" if args.hours is None else \
        f"{args.hours:g} h of modelled time per lane (at most {args.travellers} travellers)"
    where = "" if groups == 1 else f" in {groups} groups (processes, each its own pcscd)"
    print(f"gatesim load: {how_many} on {args.lanes} lane(s){where}, chip {timing.chip_kbps} kbit/s, "
          f"PACE + extended length, speedup {timing.speedup:g} (approach and placing only)", flush=True)


def _progress(args):
    step = max(1, args.travellers // 20) if args.hours is None else max(1, round(args.hours * 3600 / 8.0 / 20))

    def progress(lane: int, number: int, outcome) -> None:
        if number % step == 0 or not outcome.as_expected:
            print(f"  lane {lane} #{number}: {outcome.outcome} machine={outcome.machine_s:.2f}s "
                  f"cycle={outcome.cycle_s:.1f}s{'' if outcome.as_expected else '  UNEXPECTED'}", flush=True)
    return progress


def _run(args, timing, workdir: Path):
    faces, travellers = _people(args, workdir)
    _announce(args, timing)
    options = {"vpcd_port": args.vpcd_port, "framing": args.framing, "seed": args.seed}
    runs, sampler, elapsed = run_load(workdir, faces, travellers, args.lanes, timing, options, _progress(args),
                                      args.hours)
    return summarise(runs, sampler, elapsed, timing, len(travellers), args.hours), runs


def run_grouped(args, timing, workdir: Path, namespaces: Namespacing):
    """3 to 8 lanes: the groups' processes, then one report merged from their travellers' raw results."""
    groups = plan(args.lanes)
    _announce(args, timing, len(groups))
    note = contention_note(args.lanes, cores())
    if note:
        print(f"gatesim load: WARNING: {note}", file=sys.stderr, flush=True)
    raws = run_groups(args, workdir, namespaces)
    runs, sampler, elapsed = merge(raws)
    report = summarise(runs, sampler, elapsed, timing, args.travellers, args.hours)
    return grouped(report, raws, groups, args.lanes, cores()), runs


def run_group(args, timing) -> int:
    """One group of a many-lane run, inside its own mount namespace: its own pcscd on the port it was
    given, its lanes' share of the run's travellers; says when its benches are up, walks on the word."""
    with tempfile.TemporaryDirectory(prefix="gatesim-load-group-") as workdir:
        pcscd = None
        try:
            faces, travellers = _people(args, Path(workdir), say=args.group_first_lane == 1)
            pcscd = PcscdProcess(Path(workdir) / "pcsc", port=args.group_vpcd).start()
            options = {"vpcd_port": args.group_vpcd, "framing": args.framing, "seed": args.seed,
                       "first_lane": args.group_first_lane, "group_of": args.group_of}
            runs, sampler, elapsed = run_load(Path(workdir), faces, travellers, args.lanes, timing, options,
                                              _progress(args), args.hours, ready=_await_go)
        except (BenchUnavailable, PcscdUnavailable, PortraitUnavailable, LoadError, OSError) as exc:
            print(f"gatesim load: group cannot run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            if pcscd is not None:
                pcscd.stop()
    write_raw(args.group_raw, runs, sampler.samples, elapsed)
    return EXIT_OK


def _await_go() -> None:
    print(READY, flush=True)
    if sys.stdin.readline().strip() != GO:
        raise LoadError("the run that started this group stopped before its travellers walked")
