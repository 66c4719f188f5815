"""`gatectl gate check|status`: the gate's inputs and relays, for the technician.

`check [--config FILE] [--json] [--pulse DOOR [--seconds N]]` drives the configured pins itself:
exit 0 when the gate is quiet (every door shut, emergency loop closed, no tamper), 1 when not,
2 when the config or the pins cannot be used. It reports each door's relay polarity and the pin
level that locks it; `--pulse DOOR` releases that one door for N seconds, with the technician
watching it unlock and lock again: the only proof that `relay_active_high` is right. With a
`safety://` gate the controller owns the pins: stop `gate-safety` first (check refuses otherwise).

`status [--config FILE] [--json]` asks the running safety controller (relays, contacts, presence,
emergency, tamper, stance, last heartbeat): exit 0 normal, 1 when it holds a stance, 2 unreachable.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError


def register(groups) -> None:
    gate = groups.add_parser("gate", help="gate hardware tools")
    actions = gate.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="read doors, presence, emergency and tamper inputs; exit 1 if not quiet")
    check.add_argument("--config", type=Path, default=Path("config/default.toml"))
    check.add_argument("--json", action="store_true")
    check.add_argument("--pulse", choices=["entry", "exit"], help="release this door briefly (watch it)")
    check.add_argument("--seconds", type=float, default=3.0)
    check.set_defaults(func=run_check)
    status = actions.add_parser("status", help="the safety controller's view of the doors (safety:// gates)")
    status.add_argument("--config", type=Path, default=Path("config/default.toml"))
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=run_status)


def _config(path: Path):
    from firmware_app.config import load_config
    from firmware_app.errors import ConfigError
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(f"{path}: {exc}") from exc


def run_check(args) -> int:
    from drivers.errors import DriverError
    from drivers.gate import Door, GateDriver, make_pin_factory
    from firmware_app.lane.wiring import gate_layout
    config = _config(args.config)
    if _controller_answers(config):
        print("gatectl: gate-safety owns the pins now: stop it (and gate-app) before `gate check`", file=sys.stderr)
        return EXIT_USAGE
    layout = gate_layout(config.gate)
    if args.pulse is not None and Door(args.pulse) not in layout.doors:
        raise UsageError(f"this {layout.kind.value} gate has no {args.pulse} door")
    try:
        with GateDriver(layout, make_pin_factory(config.gate.pin_factory.value), lambda event: None) as gate:
            snapshot = gate.snapshot()
            pulsed = _pulse(gate, Door(args.pulse), args.seconds) if args.pulse else None
    except DriverError as exc:
        print(f"gatectl: gate unavailable ({type(exc).__name__}): {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = {"pin_factory": config.gate.pin_factory.value, "layout": config.gate.layout,
              "doors_open": sorted(d.value for d in snapshot.doors_open), "presence": snapshot.presence,
              "emergency": snapshot.emergency, "tamper": snapshot.tamper, "relays": _relays(layout)}
    if pulsed is not None:
        report["pulse"] = pulsed
    report["quiet"] = not (snapshot.doors_open or snapshot.emergency or snapshot.tamper)
    print(json.dumps(report) if args.json else _human(report))
    return EXIT_OK if report["quiet"] else EXIT_FAILED


def _relays(layout) -> dict:
    return {door.value: {"pin": pins.relay, "fail_mode": pins.fail_mode.value,
                         "relay_active_high": pins.relay_active_high,
                         "locked_level": "high" if not pins.release_level_high() else "low",
                         "released_level": "high" if pins.release_level_high() else "low"}
            for door, pins in layout.doors.items()}


def _pulse(gate, door, seconds: float) -> dict:
    """Release one door for `seconds`, then lock it; the technician confirms what they saw."""
    seconds = max(0.0, min(seconds, 10.0))
    print(f"releasing the {door.value} door for {seconds:g} s: it must UNLOCK now and LOCK again after",
          file=sys.stderr, flush=True)
    gate.open_door(door)
    opened = door in gate.released_doors()
    time.sleep(seconds)
    gate.close_door(door)
    return {"door": door.value, "released": opened, "locked_again": door not in gate.released_doors()}


def _controller_answers(config) -> bool:
    from drivers.errors import DriverError
    from drivers.gate.safety.client import SafetyGate
    from drivers.gate.safety.settings import socket_of
    path = socket_of(config.gate.url)
    if path is None or not path.exists():
        return False
    try:
        SafetyGate(path, lambda event: None, role="monitor", connect_s=0.5).close()
    except DriverError:
        return False
    return True


def run_status(args) -> int:
    from drivers.errors import DriverError
    from drivers.gate.safety.client import SafetyGate
    from drivers.gate.safety.settings import socket_of
    config = _config(args.config)
    path = socket_of(config.gate.url)
    if path is None:
        raise UsageError(f"gate.url is {config.gate.url!r}: no safety controller configured (safety:///path)")
    try:
        with SafetyGate(path, lambda event: None, role="monitor", connect_s=1.0) as monitor:
            state = monitor.status()
    except DriverError as exc:
        print(f"gatectl: safety controller unreachable ({type(exc).__name__}): {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(state) if args.json else "\n".join(f"{key:16} {value}" for key, value in state.items()))
    return EXIT_OK if state.get("stance") == "none" else EXIT_FAILED


def _human(report: dict) -> str:
    doors = ", ".join(report["doors_open"]) or "none"
    lines = [f"pins       {report['pin_factory']} ({report['layout']})", f"doors open {doors}",
             f"presence   {report['presence']}", f"emergency  {'ACTIVE' if report['emergency'] else 'no'}",
             f"tamper     {'ACTIVE' if report['tamper'] else 'no'}"]
    for door, relay in report["relays"].items():
        lines.append(f"relay      {door}: pin {relay['pin']} {relay['fail_mode']}, active "
                     f"{'high' if relay['relay_active_high'] else 'low'} (locked = {relay['locked_level']})")
    if "pulse" in report:
        pulse = report["pulse"]
        lines.append(f"pulse      {pulse['door']}: released {pulse['released']}, locked again {pulse['locked_again']}")
    lines.append(f"result     {'quiet' if report['quiet'] else 'NOT QUIET'}")
    return "\n".join(lines)
