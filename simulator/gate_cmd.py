"""`gatesim gate input NAME on|off` / `gatesim gate inside N` / `gatesim gate outputs`: drive the
simulated inputs of a running `gate-safety` (pin_factory = "mock") through its test-only control
socket, and read its outputs. NAME: emergency, tamper, presence, entry, exit (a door forced open).
The socket is `<[gate] url's socket>.sim`, or `--socket PATH` (the controller's own socket path).
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from drivers.errors import DriverError
from drivers.gate.safety.settings import socket_of
from drivers.gate.safety.simctl import INPUTS, RemoteGate


def register(groups) -> None:
    gate = groups.add_parser("gate", help="drive the simulated gate inputs of a running gate-safety")
    actions = gate.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    put = actions.add_parser("input", help="set a simulated input")
    put.add_argument("name", choices=INPUTS)
    put.add_argument("state", choices=["on", "off"])
    inside = actions.add_parser("inside", help="occupy the first N presence zones")
    inside.add_argument("count", type=int)
    outputs = actions.add_parser("outputs", help="relays, doors, light and buzzer as the pins show them")
    for parser in (put, inside, outputs):
        parser.add_argument("--config", type=Path, default=Path("config/default.toml"))
        parser.add_argument("--socket", type=Path, default=None, help="the controller's socket (not the .sim one)")
        parser.set_defaults(func=run)


def _control_socket(args) -> Path:
    socket = args.socket
    if socket is None:
        gate = tomllib.loads(args.config.read_text()).get("gate", {})
        socket = socket_of(gate.get("url", ""))
    if socket is None:
        raise SystemExit(f"gatesim: {args.config} has no safety:// gate url; give --socket")
    return Path(str(socket) + ".sim")


def run(args) -> int:
    try:
        remote = RemoteGate(_control_socket(args))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"gatesim: no simulated gate-safety to talk to: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "input":
            state = remote.input(args.name, args.state == "on")
        elif args.action == "inside":
            state = remote.set_inside(args.count)
        else:
            state = remote.outputs()
    except (OSError, DriverError) as exc:
        print(f"gatesim: control socket: {exc}", file=sys.stderr)
        return 2
    finally:
        remote.close()
    print(json.dumps(state))
    return 0
