"""`gatectl`: the technician's and operator's tool.

Exit codes: 0 ok, 1 check failed, 2 usage, config or unreadable input.
Each command group lives in its own module with a `register(subparsers)` function.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

COMMAND_MODULES = [
    "firmware_app.cli.config_cmd",
    "firmware_app.cli.mrz_cmd",
    "firmware_app.cli.face_cmd",
    "firmware_app.cli.chip_cmd",
    "firmware_app.cli.kiosk_cmd",
    "firmware_app.cli.bmis_cmd",
    "firmware_app.cli.gate_cmd",
    "firmware_app.cli.outbox_cmd",
    "firmware_app.cli.selftest_cmd",
    "firmware_app.cli.pki_cmd",
    "firmware_app.cli.officer_cmd",
    "firmware_app.cli.provision_cmd",
    "firmware_app.cli.cert_cmd",
    "firmware_app.cli.logs_cmd",
    "firmware_app.cli.update_cmd",
    "firmware_app.cli.units_cmd",
    "firmware_app.cli.status_cmd",
]


class UsageError(Exception):
    """Bad command-line use or unreadable input: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 by itself; keep its message short
        self.print_usage(sys.stderr)
        raise SystemExit(f"{self.prog}: error: {message}") from None


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = _Parser(prog="gatectl", description="Border gate appliance tool")
    parser.add_argument("--version", action="version", version=f"gatectl {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=_Parser)
    groups.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return EXIT_USAGE
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"gatectl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `gatectl ... | head`: the reader left; stop quietly without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
