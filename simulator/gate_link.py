"""The bench's hold on a gate whose pins live in another process: the door safety controller's
test-only control socket (drivers/gate/safety/simctl.py), which exists only when the controller
runs on simulated (MockFactory) pins and says SIMULATED in its log. Local only (a Unix socket in
the bench's own directory), one short JSON line per request, every request bounded by a timeout.

GateLink offers what the in-process GateSimulator offers the scenario runner and the fault
timeline (layout, released, is_open, set_inside, emergency, tamper) by passing each request to
RemoteGate, the control socket's own client (it reads the outputs; GateLink only adds the lock,
GateLinkDown for a dead controller, and the people it puts back). It survives a power cut:
`reconnect()` after the controller has been started again puts the people back where they stood
(a power cut does not make anybody leave the lane); the loops come back closed.

    link = GateLink(control_socket, layout); link.set_inside(1); link.released(Door.ENTRY)
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from drivers.gate.layout import Door, GateLayout
from drivers.gate.safety import protocol as proto
from drivers.gate.safety.simctl import RemoteGate

REQUEST_TIMEOUT_S = 2.0
T = TypeVar("T")


class GateLinkDown(RuntimeError):
    """The controller is not there (power cut, or it died): nothing can be read or driven."""


class GateLink:
    def __init__(self, control_socket: Path, layout: GateLayout):
        self.path, self.layout = Path(control_socket), layout
        self.inside = 0
        self._remote: RemoteGate | None = None
        self._lock = threading.Lock()     # the runner's walker and the fault timeline share it

    def connect(self) -> GateLink:
        with self._lock:
            self._remote = RemoteGate(self.path, timeout_s=REQUEST_TIMEOUT_S)
        return self

    def reconnect(self) -> None:
        """After a restart of the controller: connect again and put the people back inside."""
        self.close()
        self.connect()
        if self.inside:
            self.set_inside(self.inside)

    def close(self) -> None:
        with self._lock:
            if self._remote is not None:
                self._remote.close()
            self._remote = None

    def drop(self) -> None:
        """The controller was killed: forget the connection (the socket is dead)."""
        self.close()

    # --- what GateSimulator offers: RemoteGate's own requests, over a link that can go down -------
    def outputs(self) -> dict:
        return self._call(lambda remote: remote.outputs())

    def released(self, door: Door) -> bool:
        return self._call(lambda remote: remote.released(door))

    def is_open(self, door: Door) -> bool:
        return self._call(lambda remote: remote.is_open(door))

    def set_inside(self, count: int) -> None:
        self.inside = count
        self._call(lambda remote: remote.set_inside(count))

    def emergency(self, on: bool) -> None:
        self._call(lambda remote: remote.emergency(on))

    def tamper(self, on: bool) -> None:
        self._call(lambda remote: remote.tamper(on))

    def stop(self) -> None:
        self.close()

    def _call(self, request: Callable[[RemoteGate], T]) -> T:
        """One request to the controller; a dead socket is dropped and reported as GateLinkDown."""
        with self._lock:
            if self._remote is None:
                raise GateLinkDown("the door safety controller is not running")
            try:
                return request(self._remote)
            except (OSError, proto.ProtocolError) as exc:
                self._remote.close()
                self._remote = None
                raise GateLinkDown(f"the door safety controller went away: {exc}") from exc
