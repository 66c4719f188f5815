"""The appliance's side of the controller: a gate backend behind the same interface as GateDriver.

    gate = SafetyGate(Path("/run/border-gate/safety.sock"), on_event=queue.put, heartbeat_s=0.2)
    gate.open_door(Door.ENTRY, passage="txn-1"); gate.snapshot(); gate.close()

Commands wait for the controller's answer: a refusal by its interlock is `InterlockRefused`, no
link or no answer in time `DriverUnavailable` / `DriverTimeout` (the lane then secures and refers).
A reader thread turns the controller's events into GateEvents and calls `on_event` on itself: a
callback must hand any command to another thread (the reader is the one that reads the answer; a
command asked on it fails at once with `DriverTimeout`); a heartbeat thread proves we are
alive while `alive()` says the lane is healthy (a stuck lane stops the heartbeat, and the
controller takes its safe stance by itself). When the link drops, LINK_DOWN is reported and the
link is re-opened in the background; the lane then resynchronises from `snapshot()`, which is
always the controller's view, never ours.
"""
from __future__ import annotations

import itertools
import logging
import queue
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.errors import DriverIOError, DriverTimeout, DriverUnavailable, InterlockRefused

from ..events import GateEvent, GateEventKind, GateSnapshot
from ..layout import Door
from . import protocol as proto

log = logging.getLogger("gate.safety.client")
ANSWER_S = 0.5


class SafetyGate:
    def __init__(self, path: Path, on_event: Callable[[GateEvent], None], heartbeat_s: float = 0.2,
                 alive: Callable[[], bool] = lambda: True, role: str = "appliance", connect_s: float = 2.0):
        self.path, self._on_event, self.heartbeat_s = Path(path), on_event, heartbeat_s
        self.alive, self.role = alive, role
        self._ids = itertools.count(1)
        self._answers: dict[int, queue.Queue] = {}
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._linked = threading.Event()
        self.welcome: dict | None = None
        self._connect(connect_s)
        self._reader_thread = threading.Thread(target=self._reader, name="safety-link", daemon=True)
        self._reader_thread.start()
        if role == "appliance":
            threading.Thread(target=self._heartbeat, name="safety-heartbeat", daemon=True).start()

    # --- link -------------------------------------------------------------------------------
    def _connect(self, timeout_s: float) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(self.path))
            sock.sendall(proto.encode({"v": proto.VERSION, "type": "hello", "role": self.role}))
            buffer, lines = proto.LineBuffer(), list[bytes]()
            while not lines:
                chunk = sock.recv(4096)
                if not chunk:
                    raise DriverUnavailable("the safety controller closed the link (another appliance?)")
                lines = buffer.feed(chunk)
            welcome = proto.decode(lines[0])
        except OSError as exc:
            sock.close()
            raise DriverUnavailable(f"safety controller at {self.path}: {type(exc).__name__}") from exc
        if welcome.get("type") != "welcome":
            sock.close()
            raise DriverUnavailable(f"safety controller refused the link: {welcome.get('detail')}")
        sock.settimeout(None)
        self._sock, self.welcome, self._buffer, self._pending_lines = sock, welcome, buffer, lines[1:]
        self._linked.set()

    def _reader(self) -> None:
        while not self._stop.is_set():
            if not self._linked.is_set():
                self._reconnect()
                continue
            self._read_until_closed()
            if not self._stop.is_set():
                self._link_lost()

    def _read_until_closed(self) -> None:
        sock = self._sock
        assert sock is not None                 # set by _connect before the reader thread starts
        for line in self._pending_lines:
            self._dispatch(proto.decode(line))
        while True:
            try:
                chunk = sock.recv(4096)
                lines = self._buffer.feed(chunk) if chunk else None
                for line in lines or ():
                    self._dispatch(proto.decode(line))
            except (OSError, proto.ProtocolError):
                lines = None
            if lines is None:
                return

    def _link_lost(self) -> None:
        log.error("safety controller link lost")
        self._linked.clear()
        self._close_sock()
        for box in list(self._answers.values()):
            box.put(None)
        self._on_event(GateEvent(GateEventKind.LINK_DOWN))

    def _reconnect(self) -> None:
        if not self.alive():        # a stuck lane must not take the doors back from the stance
            self._stop.wait(self.heartbeat_s)
            return
        try:
            self._connect(1.0)
        except DriverUnavailable:
            self._stop.wait(0.2)
            return
        log.warning("safety controller link restored")
        self._on_event(GateEvent(GateEventKind.LINK_UP))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "ack":
            box = self._answers.get(message.get("id", 0))      # ids count from 1
            if box is not None:
                box.put(message)
        elif message.get("type") == "event":
            event = _gate_event(message)
            if event is not None:
                self._on_event(event)
            elif message.get("kind") in ("door_forced", "stance"):
                log.warning("safety controller: %s %s", message.get("kind"),
                            message.get("door") or message.get("detail"))

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            if self._linked.is_set() and self.alive():
                try:
                    self._request(proto.Op.HEARTBEAT)
                except (DriverUnavailable, DriverTimeout, DriverIOError):
                    pass        # the reader notices a dead link; a slow answer is no fault here

    # --- requests ---------------------------------------------------------------------------
    def _request(self, op: proto.Op, **fields) -> dict:
        if threading.current_thread() is self._reader_thread:
            # an `on_event` callback asking: only this thread reads the answer, so it would wait the
            # whole ANSWER_S for nothing, holding every later event back; fail at once and loudly
            log.error("%s asked from the safety link's own event thread: hand it to another thread", op.value)
            raise DriverTimeout(f"{op.value} asked on the safety link's event thread (never answerable)")
        if not self._linked.is_set():
            raise DriverUnavailable("no link to the safety controller")
        msg_id = next(self._ids)
        box: queue.Queue = queue.Queue(maxsize=1)
        self._answers[msg_id] = box
        try:
            self._send(proto.command(msg_id, op, **fields))
            answer = box.get(timeout=ANSWER_S)
        except queue.Empty:
            raise DriverTimeout(f"safety controller did not answer {op.value}") from None
        finally:
            self._answers.pop(msg_id, None)
        if answer is None:
            raise DriverUnavailable("safety controller link lost")
        if not answer.get("ok"):
            raise InterlockRefused(op.value, str(answer.get("refused")))
        return answer

    def _send(self, message: dict) -> None:
        with self._send_lock:
            sock = self._sock
            if sock is None:
                raise DriverUnavailable("no link to the safety controller")
            try:
                sock.sendall(proto.encode(message))
            except OSError as exc:
                raise DriverUnavailable(f"safety controller link: {type(exc).__name__}") from exc

    # --- the gate interface -----------------------------------------------------------------
    def open_door(self, door: Door, passage: str | None = None) -> None:
        self._request(proto.Op.OPEN, door=door.value, passage=passage)

    def close_door(self, door: Door) -> None:
        self._request(proto.Op.CLOSE, door=door.value)

    def secure_all(self) -> None:
        self._request(proto.Op.SECURE)

    def release_all(self) -> None:
        self._request(proto.Op.RELEASE)

    def set_light(self, on: bool) -> None:
        self._request(proto.Op.LIGHT, on=on)

    def set_buzzer(self, on: bool) -> None:
        self._request(proto.Op.BUZZER, on=on)

    def status(self) -> dict:
        return self._request(proto.Op.STATUS)["state"]

    def snapshot(self) -> GateSnapshot:
        state = self.status()
        return GateSnapshot(frozenset(Door(d) for d in state["doors_open"]), int(state["presence"]),
                            bool(state["emergency"]), bool(state["tamper"]))

    def close(self, keep_released: frozenset[Door] = frozenset()) -> None:
        """Leave the doors to the controller: it keeps the never-trapped rule by itself."""
        self._stop.set()
        self._close_sock()

    def _close_sock(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def __enter__(self) -> SafetyGate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_KINDS = {kind.value: kind for kind in GateEventKind}


def _gate_event(message: dict[str, Any]) -> GateEvent | None:
    kind = _KINDS.get(message.get("kind", ""))
    if kind is None or kind in (GateEventKind.LINK_DOWN, GateEventKind.LINK_UP):
        return None
    door = message.get("door")
    return GateEvent(kind, door=Door(door) if door in ("entry", "exit") else None, count=message.get("count"))
