"""Fan-out of the latest screen state to the page's event streams.

Only the newest state matters to a screen, so each client waits for a version newer than the one it
sent last; a slow client skips states instead of queueing them, and memory never grows.

Only the kiosk browser (authenticated by the handler) gets a stream. When every stream is taken,
the newest one wins and the oldest is ended: a page reloaded while its old connection lingers, or
half-open connections after a network hiccup, can never lock the kiosk screen out.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque

from .errors import RequestRejected


class StateChannel:
    def __init__(self, max_clients: int):
        self._cond = threading.Condition()
        self._version = 0
        self._payload: str | None = None
        self._closed = False
        self._streams: deque[int] = deque()
        self._ended: set[int] = set()
        self._ids = itertools.count(1)
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

    def wait_newer(self, seen: int, timeout: float, stream: int | None = None) -> tuple[int, str | None] | None:
        """The newest (version, payload) after `seen`; (seen, None) on timeout; None once closed
        (for everyone, or for this stream when a newer one took its place)."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or stream in self._ended or self._version > seen, timeout)
            if self._closed or stream in self._ended:
                return None
            if self._version > seen:
                return self._version, self._payload
            return seen, None

    def attach(self) -> int:
        """A new stream's id; ends the oldest stream when all are taken."""
        with self._cond:
            if self._closed:
                raise RequestRejected(503, "kiosk is stopping")
            while len(self._streams) >= self._max_clients:
                self._ended.add(self._streams.popleft())
                self._cond.notify_all()
            stream = next(self._ids)
            self._streams.append(stream)
            return stream

    def detach(self, stream: int) -> None:
        with self._cond:
            self._ended.discard(stream)
            if stream in self._streams:
                self._streams.remove(stream)

    @property
    def clients(self) -> int:
        with self._cond:
            return len(self._streams)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
