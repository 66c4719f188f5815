"""Stall detection: a camera that stops delivering frames is reported within the stall timeout.

A worker thread performs each read on demand (so a file source is not spun in a busy loop); the
caller waits for it against the injected clock and gets CameraStalled when time runs out, even
when the backend's read is blocked for good inside a driver.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace

import numpy as np

from drivers.camera.base import Clock, Frame, FrameSource
from drivers.errors import CameraStalled

from ..errors import DriverError, DriverIOError

_STOP = object()


class StallWatch:
    """Pure bookkeeping: when did progress last happen, and is that too long ago?"""

    def __init__(self, timeout_s: float, clock: Clock):
        self.timeout_s = timeout_s
        self._clock = clock
        self._since = clock()

    def restart(self) -> None:
        self._since = self._clock()

    def expired(self) -> bool:
        return self._clock() - self._since >= self.timeout_s


class SupervisedSource(FrameSource):
    def __init__(self, inner: FrameSource, timeout_s: float = 1.0, clock: Clock = time.monotonic,
                 poll_s: float = 0.01):
        super().__init__(inner.url, clock)
        self.inner = inner
        self.simulated = inner.simulated
        # extra streams pass through; a sequence read via the watchdog worker is frame by frame,
        # so an exposure lock is not promised here
        self.capabilities = replace(inner.capabilities, locked_exposure_sequence=False)
        self._watch = StallWatch(timeout_s, clock)
        self._poll_s = poll_s
        self._requests: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()
        self._pending = False
        self._worker = threading.Thread(target=self._serve, name=f"camera:{inner.url}", daemon=True)
        self._worker.start()

    def read(self) -> Frame:
        if not self._pending:
            self._requests.put(True)
            self._pending = True
        self._watch.restart()
        while True:
            try:
                outcome = self._results.get(timeout=self._poll_s)
            except queue.Empty:
                if self._watch.expired():
                    raise CameraStalled(f"camera {self.url} gave no frame for {self._watch.timeout_s} s") from None
                continue
            self._pending = False
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    def _grab(self) -> np.ndarray:  # reads go through the worker; see read()
        raise NotImplementedError

    def _serve(self) -> None:
        while self._requests.get() is not _STOP:
            try:
                self._results.put(self.inner.read())
            except DriverError as exc:
                self._results.put(exc)
            except Exception as exc:  # a backend bug must reach the caller as a driver fault
                self._results.put(DriverIOError(f"camera {self.url} failed: {type(exc).__name__}: {exc}"))

    def close(self) -> None:
        self._requests.put(_STOP)
        self.inner.close()
