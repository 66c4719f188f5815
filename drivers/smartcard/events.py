"""Card inserted/removed events for one reader, by polling pyscard in a thread.

Polling (not CardMonitor's global observer) keeps the watch to the configured reader and lets the
caller stop it cleanly; the interval is the caller's choice.
"""
from __future__ import annotations

import enum
import threading
from typing import Callable

from smartcard.Exceptions import CardRequestTimeoutException, SmartcardException
from smartcard.CardRequest import CardRequest

from drivers.smartcard.pcsc import find_reader


class CardEvent(enum.Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


class CardWatcher:
    def __init__(self, pattern: str, on_event: Callable[[CardEvent, bytes], None], interval_s: float = 0.2):
        self._reader = find_reader(pattern)
        self._on_event, self._interval = on_event, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="card-watcher", daemon=True)
        self._present: bytes | None = None

    def start(self) -> "CardWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            atr = self._poll()
            if atr != self._present:
                if self._present is not None:
                    self._on_event(CardEvent.REMOVED, self._present)
                if atr is not None:
                    self._on_event(CardEvent.INSERTED, atr)
                self._present = atr
            self._stop.wait(self._interval)

    def _poll(self) -> bytes | None:
        try:
            service = CardRequest(readers=[self._reader], timeout=self._interval).waitforcard()
        except CardRequestTimeoutException:
            return None
        try:
            service.connection.connect()
            return bytes(service.connection.getATR())
        except SmartcardException:  # card left between request and connect: report as absent
            return None
        finally:
            service.connection.disconnect()
