"""Simulated pins inside the controller, and the test-only control socket that drives them.

With `pin_factory = "mock"` the controller hosts gpiozero's MockFactory pins and a GateSimulator
(doors follow their relays), and listens on `<socket>.sim` for a tester: set an input, walk people
in and out, force a door, read the outputs. This socket exists only with simulated pins, and the
controller says SIMULATED in its log. `RemoteGate` is the tester's side (GateSimulator's methods).

    {"type": "sim", "op": "input", "name": "emergency"|"tamper"|"presence"|"entry"|"exit", "on": true}
    {"type": "sim", "op": "inside", "count": 1}     {"type": "sim", "op": "outputs"}
"""
from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

from ..layout import Door
from ..sim import GateSimulator
from . import protocol as proto
from .server import Client, Listener

log = logging.getLogger("gate.safety.sim")
INPUTS = ("emergency", "tamper", "presence", "entry", "exit")


def start(controller, factory) -> Listener:
    sim = GateSimulator(factory, controller.settings.layout, swing_s=0.05, poll_s=0.002)
    sim.start()
    controller.sim = sim
    path = controller.settings.control_socket
    log.warning("SIMULATED DEVICE in use: gate pins are gpiozero MockFactory pins hosted by gate-safety; "
                "test control socket %s", path)
    return Listener.bind(path, Client, handle=lambda client, message: _answer(controller, sim, client, message))


def _answer(controller, sim: GateSimulator, client: Client, message: dict) -> None:
    if message.get("type") != "sim":
        raise proto.ProtocolError("control socket: sim messages only")
    op = message.get("op")
    if op == "input":
        _input(sim, message.get("name"), bool(message.get("on")))
    elif op == "inside":
        sim.set_inside(max(0, min(int(message.get("count", 0)), len(sim.layout.presence))))
    elif op != "outputs":
        raise proto.ProtocolError(f"control socket: unknown op {op!r}")
    controller.rescan()         # the answer shows the outputs after this input
    client.send({"type": "sim", "ok": True, "at": time.monotonic(), "state": outputs(sim)})


def _input(sim: GateSimulator, name, on: bool) -> None:
    if name == "emergency":
        sim.emergency(on)
    elif name == "tamper":
        sim.tamper(on)
    elif name == "presence":
        sim.set_inside(1 if on else 0)
    elif name in ("entry", "exit") and Door(name) in sim.layout.doors:
        sim.force_open(Door(name)) if on else sim.factory.pin(sim.layout.doors[Door(name)].closed_sensor).drive_low()
    else:
        raise proto.ProtocolError(f"control socket: unknown input {name!r}")


def outputs(sim: GateSimulator) -> dict:
    layout, pin = sim.layout, sim.factory.pin
    return {"released": sorted(d.value for d in layout.doors if sim.released(d)),
            "doors_open": sorted(d.value for d in layout.doors if sim.is_open(d)),
            "inside": sim.inside,
            "light": bool(layout.light is not None and pin(layout.light).state),
            "buzzer": bool(layout.buzzer is not None and pin(layout.buzzer).state)}


class RemoteGate:
    """The tester's end of the control socket (what GateSimulator offers in-process)."""

    def __init__(self, path: Path, timeout_s: float = 10.0):
        self.path = Path(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        self.sock.connect(str(self.path))
        self.buffer = proto.LineBuffer()
        self.lines: list[bytes] = []

    def ask(self, op: str, **fields) -> dict:
        self.sock.sendall(proto.encode({"type": "sim", "op": op, **fields}))
        while not self.lines:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise proto.ProtocolError("controller closed the control socket")
            self.lines.extend(self.buffer.feed(chunk))
        return proto.decode(self.lines.pop(0))["state"]

    def input(self, name: str, on: bool) -> dict:
        return self.ask("input", name=name, on=on)

    def emergency(self, on: bool) -> dict:
        return self.input("emergency", on)

    def tamper(self, on: bool) -> dict:
        return self.input("tamper", on)

    def set_inside(self, count: int) -> dict:
        return self.ask("inside", count=count)

    def outputs(self) -> dict:
        return self.ask("outputs")

    def released(self, door: Door) -> bool:
        return door.value in self.outputs()["released"]

    def is_open(self, door: Door) -> bool:
        return door.value in self.outputs()["doors_open"]

    def close(self) -> None:
        self.sock.close()
