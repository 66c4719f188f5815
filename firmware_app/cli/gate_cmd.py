"""`gatectl gate check [--config FILE] [--json]`: read the gate's inputs with the configured pins.

Exit 0 when the gate is quiet (every door shut, emergency loop closed, no tamper), 1 when not,
2 when the config or the pins cannot be used. The relays are secured and never opened here.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError


def register(groups) -> None:
    gate = groups.add_parser("gate", help="gate hardware tools")
    actions = gate.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="read doors, presence, emergency and tamper inputs; exit 1 if not quiet")
    check.add_argument("--config", type=Path, default=Path("config/default.toml"))
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)


def run_check(args) -> int:
    from drivers.errors import DriverError
    from drivers.gate import GateDriver, make_pin_factory
    from firmware_app.errors import ConfigError
    from firmware_app.config import load_config
    from firmware_app.lane.wiring import gate_layout
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(f"{args.config}: {exc}") from exc
    try:
        with GateDriver(gate_layout(config.gate), make_pin_factory(config.gate.pin_factory.value),
                        lambda event: None) as gate:
            snapshot = gate.snapshot()
    except DriverError as exc:
        print(f"gatectl: gate unavailable ({type(exc).__name__}): {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = {"pin_factory": config.gate.pin_factory.value, "layout": config.gate.layout,
              "doors_open": sorted(d.value for d in snapshot.doors_open), "presence": snapshot.presence,
              "emergency": snapshot.emergency, "tamper": snapshot.tamper}
    quiet = not (snapshot.doors_open or snapshot.emergency or snapshot.tamper)
    report["quiet"] = quiet
    print(json.dumps(report) if args.json else _human(report))
    return EXIT_OK if quiet else EXIT_FAILED


def _human(report: dict) -> str:
    doors = ", ".join(report["doors_open"]) or "none"
    return "\n".join([f"pins       {report['pin_factory']} ({report['layout']})", f"doors open {doors}",
                      f"presence   {report['presence']}", f"emergency  {'ACTIVE' if report['emergency'] else 'no'}",
                      f"tamper     {'ACTIVE' if report['tamper'] else 'no'}",
                      f"result     {'quiet' if report['quiet'] else 'NOT QUIET'}"])
