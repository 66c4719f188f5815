"""Fan-out of the latest screen state to the page's event streams.

Only the newest state matters to a screen, so each client waits for a version newer than the one it
sent last; a slow client skips states instead of queueing them, and memory never grows.
"""
from __future__ import annotations

import threading

from .errors import RequestRejected


class StateChannel:
    def __init__(self, max_clients: int):
        self._cond = threading.Condition()
        self._version = 0
        self._payload: str | None = None
        self._closed = False
        self._clients = 0
        self._max_clients = max_clients

    def publish(self, payload: str) -> int:
        with self._cond:
            self._version += 1
            self._payload = payload
            self._cond.notify_all()
            return self._version

    def latest(self) -> tuple[int, str | None]:
        with self._cond:
            return self._version, self._payload

    def wait_newer(self, seen: int, timeout: float) -> tuple[int, str | None] | None:
        """The newest (version, payload) after `seen`; (seen, None) on timeout; None once closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._version > seen, timeout)
            if self._closed:
                return None
            if self._version > seen:
                return self._version, self._payload
            return seen, None

    def attach(self) -> None:
        with self._cond:
            if self._closed:
                raise RequestRejected(503, "kiosk is stopping")
            if self._clients >= self._max_clients:
                raise RequestRejected(503, "too many event streams")
            self._clients += 1

    def detach(self) -> None:
        with self._cond:
            self._clients -= 1

    @property
    def clients(self) -> int:
        with self._cond:
            return self._clients

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
