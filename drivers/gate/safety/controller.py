"""`gate-safety --config FILE`: the door safety controller process, the only owner of the door I/O.

One thread runs a scan loop: read every input, let the interlock compute the outputs, drive the
relays; at least every `scan_s`, and at once when an input edge or a command arrives. The emergency
input has a second, direct path: its edge callback releases every relay on gpiozero's own thread,
so the release never waits for the loop. Commands and events go over a Unix socket (protocol.py);
with simulated pins a second, test-only socket drives the inputs (simctl.py).

Exit paths: SIGTERM/SIGINT/SIGHUP stop the loop and `GateDriver.close()` leaves every relay
de-energised (each door in its fail mode); an exception or a plain exit does the same through the
driver's atexit hook. SIGKILL and a crash of the interpreter cannot: that is what the hardware
break-glass and `dtparam=strict_gpiod` are for (systemd/README.md).
"""
from __future__ import annotations

import argparse
import logging
import os
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.errors import DriverError, SettingsError
from drivers.gate.safety.settings import ControllerSettings, load

from ..driver import GateDriver
from ..events import GateEventKind, GateSnapshot
from ..layout import LayoutKind
from ..pins import make_pin_factory
from . import protocol as proto
from .interlock import Interlock, Notice
from .server import Client, Listener

log = logging.getLogger("gate.safety")


class Controller:
    def __init__(self, settings: ControllerSettings, factory, monotonic=time.monotonic):
        self.settings, self.monotonic = settings, monotonic
        self.interlock = Interlock(settings.layout.kind)
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.appliance: Client | None = None
        self.stopping = threading.Event()
        self.driver = GateDriver(settings.layout, factory, self._edge)
        self.sim = None         # set by simctl when the pins are simulated

    # --- pins -------------------------------------------------------------------------------
    def _edge(self, event) -> None:
        """gpiozero's thread: the emergency releases at once; any edge wakes the scan."""
        if event.kind is GateEventKind.EMERGENCY_ON:
            with self._lock:
                self._quietly(self.driver.release_all)
        self.wake()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass        # already woken

    def scan(self) -> list[Notice]:
        with self._lock:
            try:
                snapshot = self.driver.snapshot()
            except DriverError as exc:
                log.error("inputs unreadable (%s): reported as tamper, doors to their stance", exc)
                snapshot = self._unreadable()
            notices = self.interlock.sense(snapshot)
            released = self.interlock.released()
            self._quietly(lambda: self.driver.apply(released))
            self.interlock.applied = released
            light, buzzer = self.interlock.outputs()
            self._quietly(lambda: self._signal(light, buzzer))
        for notice in notices:
            self._log_notice(notice)
        return notices

    def _unreadable(self) -> GateSnapshot:
        """Inputs that cannot be read count as tamper, with somebody possibly inside (never trapped)."""
        last = self.interlock.inputs
        inside = max(last.presence, 1) if self.settings.layout.kind is LayoutKind.MANTRAP else last.presence
        return GateSnapshot(last.doors_open, inside, last.emergency, True)

    def rescan(self) -> None:
        """Scan now and tell the appliance what changed (the loop's thread only)."""
        self._stream(self.scan())

    def _signal(self, light: bool, buzzer: bool) -> None:
        self.driver.set_light(light)
        self.driver.set_buzzer(buzzer)

    @staticmethod
    def _quietly(action: Callable[[], object]) -> None:
        try:
            action()
        except DriverError as exc:
            log.error("output failed: %s", exc)

    @staticmethod
    def _log_notice(notice: Notice) -> None:
        if notice.kind in ("door_forced", "tamper_on", "emergency_on") or notice.kind == "stance":
            log.warning("%s %s", notice.kind, notice.door.value if notice.door else (notice.detail or ""))

    # --- the appliance ----------------------------------------------------------------------
    def handle(self, client: Client, message: dict) -> None:
        kind = message["type"]
        if kind == "hello":
            self._hello(client, message)
        elif kind == "cmd" and client.role is not None:
            self._command(client, message)
        else:
            raise proto.ProtocolError(f"unexpected {kind!r}")

    def _hello(self, client: Client, message: dict) -> None:
        if message.get("v") != proto.VERSION:
            client.send({"type": "error", "detail": f"protocol version {proto.VERSION} only"})
            raise proto.ProtocolError("version mismatch")
        role = message.get("role")
        if role == "appliance":
            if self.appliance is not None and self.appliance is not client:
                client.send({"type": "error", "detail": "another appliance is connected"})
                raise proto.ProtocolError("second appliance refused")
        elif role != "monitor":
            raise proto.ProtocolError("unknown role")
        client.role = role
        client.send({"v": proto.VERSION, "type": "welcome", "state": self.state()})
        if role == "appliance":
            self.appliance = client
            with self._lock:
                notices = self.interlock.connect()
            self._stream(notices)
            log.info("appliance connected")

    def _command(self, client: Client, message: dict) -> None:
        msg_id, op = proto.parse_command(message)
        if client.role != "appliance" and op is not proto.Op.STATUS:
            client.send({"type": "ack", "id": msg_id, "ok": False, "refused": proto.Refusal.MONITOR.value})
            return
        refusal = self._apply(op, message)
        self.rescan()                      # the relays follow before the answer goes out
        answer = {"type": "ack", "id": msg_id, "ok": refusal is None}
        if refusal is not None:
            answer["refused"] = refusal.value
            log.warning("refused %s %s: %s", op.value, message.get("door") or "", refusal.value)
        if op is proto.Op.STATUS:
            answer["state"] = self.state()
        client.send(answer)

    def _apply(self, op: proto.Op, message: dict):
        from ..layout import Door
        try:
            door = Door(message["door"]) if message.get("door") is not None else None
        except ValueError:
            return proto.Refusal.NO_SUCH_DOOR
        with self._lock:
            return self.interlock.command(op, door, message.get("passage"), message.get("on"))

    def lost(self, client: Client, why: str) -> None:
        if client is self.appliance:
            self.appliance = None
            log.error("appliance lost (%s): doors to the safe stance", why)
            with self._lock:
                notices = self.interlock.disconnect()
            for notice in notices:
                self._log_notice(notice)
            self.scan()

    def _stream(self, notices: list[Notice]) -> None:
        client = self.appliance
        if client is None or not notices:
            return
        try:
            self._send_notices(client, notices)
        except proto.ProtocolError as exc:      # it stopped reading: as good as silent
            _listener(client).drop(client, self, str(exc))

    def _send_notices(self, client: Client, notices: list[Notice]) -> None:
        for notice in notices:
            event = {"type": "event", "kind": notice.kind}
            if notice.door is not None:
                event["door"] = notice.door.value
            for key in ("count", "detail"):
                if getattr(notice, key) is not None:
                    event[key] = getattr(notice, key)
            client.send(event)

    def state(self) -> dict:
        with self._lock:
            state = self.interlock.state()
        seen = self.appliance.last_seen if self.appliance is not None else None
        state["heartbeat_age_s"] = None if seen is None else round(self.monotonic() - seen, 3)
        state["simulated"] = self.sim is not None
        return state

    # --- the loop ---------------------------------------------------------------------------
    def run(self, listeners: list[Listener]) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        for listener in listeners:
            listener.attach(selector)
        watchdog = _Watchdog(os.environ, self.monotonic)
        while not self.stopping.is_set():
            for key, _ in selector.select(self.settings.scan_s):
                self._ready(key)
            self.rescan()
            self._check_silence()
            for listener in listeners:
                listener.flush(self)
            watchdog.pet()
        selector.close()

    def _ready(self, key) -> None:
        if key.data is None:
            try:
                self._wake_r.recv(4096)
            except BlockingIOError:
                pass
            return
        key.data.ready(key, self)

    def _check_silence(self) -> None:
        client = self.appliance
        if client is not None and self.monotonic() - client.last_seen > self.settings.silence_timeout_s:
            _listener(client).drop(client, self, f"silent for more than {self.settings.silence_timeout_s:g} s")

    def close(self) -> None:
        self.driver.close()     # every relay de-energised: each door rests in its fail mode
        self._wake_r.close()
        self._wake_w.close()


# --- the process ------------------------------------------------------------------------------
def _listener(client: Client) -> Listener:
    assert client.listener is not None          # set when the listener accepted it
    return client.listener


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gate-safety", description="door safety controller")
    parser.add_argument("--config", type=Path, default=Path("config/default.toml"))
    parser.add_argument("--socket", type=Path, default=None, help="override [gate] url's socket path")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = load(args.config, args.socket)
        factory = make_pin_factory(settings.pin_factory)
        controller = Controller(settings, factory)
    except (SettingsError, DriverError) as exc:
        print(f"gate-safety: cannot start: {exc}", flush=True)
        return 1
    return serve(controller, factory)


def serve(controller: Controller, factory) -> int:
    from . import simctl
    listeners = [Listener.bind(controller.settings.socket, Client)]
    if controller.settings.pin_factory == "mock":
        listeners.append(simctl.start(controller, factory))
    _install_signals(controller)
    try:
        controller.scan()
        _notify("READY=1")
        log.info("gate-safety running on %s (%s pins)", controller.settings.socket, controller.settings.pin_factory)
        controller.run(listeners)
    finally:
        for listener in listeners:
            listener.close()
        if controller.sim is not None:
            controller.sim.stop()
        controller.close()
        log.info("gate-safety stopped; relays de-energised")
    return 0


def _install_signals(controller: Controller) -> None:
    def stop(signum, frame):
        log.info("signal %s: stopping", signal.Signals(signum).name)
        controller.stopping.set()
        controller.wake()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)


class _Watchdog:
    """WATCHDOG=1 at half systemd's WatchdogSec, only from the scan loop: a stuck loop is restarted."""

    def __init__(self, environ, monotonic):
        usec = environ.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 2e6 if usec.isdigit() else None
        self.monotonic, self.last = monotonic, 0.0

    def pet(self) -> None:
        if self.interval is not None and self.monotonic() - self.last >= self.interval:
            self.last = self.monotonic()
            _notify("WATCHDOG=1")


def _notify(message: str) -> None:
    """sd_notify without a dependency (Type=notify units)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message.encode(), "\0" + address[1:] if address.startswith("@") else address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", type(exc).__name__)
