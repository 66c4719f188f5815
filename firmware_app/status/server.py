"""The status socket: a Unix stream socket (0660, the app's group, or `[status] group`), one JSON
snapshot per connection. It runs on its own thread and only reads: a client that sends nothing,
or too much, is dropped after a short timeout; the lane loop, the doors and the BMIS link never
wait for it.

Protocol: the client connects and sends one line (`status\\n`); the server answers one JSON object
and a newline, then closes.
"""
from __future__ import annotations

import grp
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
MAX_REQUEST = 64
CLIENT_TIMEOUT_S = 1.0
Snapshot = Callable[[], dict]


class StatusServer:
    def __init__(self, path: Path, snapshot: Snapshot, *, group: str | None = None, mode: int = 0o660):
        self.path, self._snapshot, self._group, self._mode = Path(path), snapshot, group, mode
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        self._stop.clear()
        self._sock = self._bind()
        self._thread = threading.Thread(target=self._serve, name="status-socket", daemon=True)
        self._thread.start()
        log.info("status socket at %s", self.path)

    def _bind(self) -> socket.socket:
        """Bound aside, permissions set, then renamed into place: never a moment with wider access."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(str(partial))
        finally:
            os.umask(old_umask)
        if self._group:
            os.chown(partial, -1, grp.getgrnam(self._group).gr_gid)
        os.chmod(partial, self._mode)
        os.replace(partial, self.path)
        sock.listen(8)
        sock.settimeout(0.5)
        return sock

    def _serve(self) -> None:
        listener = self._sock
        assert listener is not None      # start() binds before the thread runs
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(CLIENT_TIMEOUT_S)
        try:
            request = conn.recv(MAX_REQUEST)
            if request.strip() not in (b"", b"status"):
                conn.sendall(b'{"error": "unknown request"}\n')
                return
            conn.sendall(json.dumps(self._safe_snapshot(), default=str).encode() + b"\n")
        except OSError:
            return    # the client left or stalled: nothing to do

    def _safe_snapshot(self) -> dict:
        try:
            return self._snapshot()
        except Exception as exc:
            log.error("status snapshot failed: %s", type(exc).__name__)
            return {"error": f"snapshot failed: {type(exc).__name__}"}

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)     # wakes the accept() at once
            except OSError:
                pass
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.path.unlink(missing_ok=True)
