"""`gatesim`: the tester's tool. Each command group registers itself from its own module."""
from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES: list[str] = [
    "simulator.reader_cmd",
    "simulator.passport_cmd",
    "simulator.chip_cmd",
    "simulator.demo",
    "simulator.scenario_cmd",
    "simulator.onestop_cmd",
    "simulator.load_cmd",
    "simulator.bmis_cmd",
    "simulator.gate_cmd",
]


def _version() -> str:
    from firmware_app import __version__
    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatesim", description="Border gate simulator")
    parser.add_argument("--version", action="version", version=f"gatesim {_version()}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND")
    groups.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":      # `python -m simulator.cli`: how a load run starts its groups
    raise SystemExit(main())
