"""`gatesim demo`: scripted travellers through the REAL assembled appliance on simulated devices.

Simulated reader on a pty, the virtual chip behind a pcscd the demo starts, camera frames from
the face photos (../shared/data/faces when present, read in place, else the bundled public-domain
portraits of simulator/portraits.py), a GateSimulator walking people
through the doors, the kiosk on loopback, the BMIS link to a mosquitto the demo starts and the
reference consumer receiving the records. `--reader-only` keeps the first-stage demo (reader + MRZ).
"""
from __future__ import annotations

import argparse

from simulator.demo_reader import run_reader_only
from simulator.scenario import demo_scenario
from simulator.scenario_cmd import add_bench_options, run_on_bench


def register(groups) -> None:
    cmd = groups.add_parser("demo", help="scripted travellers through the assembled, simulated appliance")
    cmd.add_argument("--reader-only", action="store_true", help="only the reader and MRZ stage (no services)")
    cmd.add_argument("--onestop", action="store_true",
                     help="a one-stop border post lane: exit and entry authorities, two BMIS (docs/onestop.md)")
    add_bench_options(cmd)
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.reader_only:
        return run_reader_only(args)
    if args.onestop:
        from simulator.onestop_cmd import SHIPPED
        from simulator.onestop_cmd import run as run_onestop
        args.file, args.demo = SHIPPED, True
        return run_onestop(args)
    return run_on_bench(lambda faces: demo_scenario(faces.persons), args, "gatesim demo")
