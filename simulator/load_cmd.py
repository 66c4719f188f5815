"""`gatesim load --travellers N [--lanes M] [--hours H] [--seed S] [--out DIR]`: generated travellers
through the real assembled appliance(s) with the timing model on; reports in DIR (JSON, JUnit XML,
summary, PNG). With --hours H each lane takes travellers until H hours of its modelled time have
passed (the sum of its lane cycles, approach and placing included at their modelled length), so a
shift of a lane runs in accelerated time; --travellers then caps the count.

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
    LoadError,
    check_lanes,
    default_timing,
    generate_travellers,
    load_people,
    run_load,
    travellers_for,
)
from simulator.load_report import ok, summarise, summary_text, write_reports
from simulator.portraits import PortraitUnavailable, prepare_faces
from simulator.scenario_bench import BenchUnavailable
from simulator.scenario_cmd import DEFAULT_FACES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from simulator.timing import CHIP_RATES_KBPS, KEY_HELP, TimingError, TimingModel, timing_from
from simulator.vchip.pcscd import PcscdUnavailable


def register(groups) -> None:
    cmd = groups.add_parser("load", help="load run: generated travellers, timing model on, reports and charts",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("--travellers", type=int, help="how many travellers (all lanes; with --hours: at most)")
    cmd.add_argument("--lanes", type=int, default=1, help="lanes side by side, each its own appliance (1-2)")
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
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL,
                        format="    [%(name)s %(levelname)s] %(message)s")
    try:
        args.travellers = travellers_for(args.hours, args.travellers, args.lanes)
        check_lanes(args.lanes, args.travellers)
        timing = timing_of(args)
    except (LoadError, TimingError) as exc:
        print(f"gatesim load: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="gatesim-load-") as workdir:
        try:
            report, runs = _run(args, timing, Path(workdir))
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


def _run(args, timing, workdir: Path):
    rng = random.Random(args.seed)
    faces = prepare_faces(args.faces, DEFAULT_FACES, workdir, rng)
    print(f"faces: {faces.describe()}", flush=True)
    if faces.source is None:
        print("PAD: OFF for this run (only the bundled portraits, which are reproduced photographs)", flush=True)
    travellers = generate_travellers(args.travellers, load_people(faces.persons), rng)
    how_many = f"{args.travellers} travellers" if args.hours is None else \
        f"{args.hours:g} h of modelled time per lane (at most {args.travellers} travellers)"
    print(f"gatesim load: {how_many} on {args.lanes} lane(s), chip {timing.chip_kbps} kbit/s, "
          f"PACE + extended length, speedup {timing.speedup:g} (approach and placing only)", flush=True)
    step = max(1, args.travellers // 20) if args.hours is None else max(1, round(args.hours * 3600 / 8.0 / 20))

    def progress(lane: int, number: int, outcome) -> None:
        if number % step == 0 or not outcome.as_expected:
            print(f"  lane {lane} #{number}: {outcome.outcome} machine={outcome.machine_s:.2f}s "
                  f"cycle={outcome.cycle_s:.1f}s{'' if outcome.as_expected else '  UNEXPECTED'}", flush=True)
    options = {"vpcd_port": args.vpcd_port, "framing": args.framing, "seed": args.seed}
    runs, sampler, elapsed = run_load(workdir, faces, travellers, args.lanes, timing, options, progress, args.hours)
    return summarise(runs, sampler, elapsed, timing, len(travellers), args.hours), runs
