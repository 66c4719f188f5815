"""Stall detection: a camera that stops delivering frames is reported within the stall timeout.

A worker thread performs each read on demand (so a file source is not spun in a busy loop); the
caller waits for it against the injected clock and gets CameraStalled when time runs out, even
when the backend's read is blocked for good inside a driver. A read's frame is only ever the
answer to that read: what a stalled read delivers late is dropped (see SupervisedSource).
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from drivers.camera.base import Clock, Frame, FrameSource
from drivers.errors import CameraStalled

from ..errors import DriverError, DriverIOError


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
    """One worker thread reads the inner camera, one read at a time; a read that stalls is
    abandoned, never reused. Each read asks for its own generation and takes only the result of a
    grab begun for it, so a stuck read's late frame (maybe the previous traveller's) or late error
    is dropped, never handed to the next read or transaction; a camera still stuck stalls that
    next read too, and no second read is started behind the stuck one."""

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
        self._changed = threading.Condition()
        self._asked = 0                       # generation of the latest read
        self._waiting: int | None = None      # the generation a caller waits for now
        self._begun = 0                       # the generation the worker last began to read
        self._result: tuple[int, Frame | BaseException] | None = None
        self._closing = False
        self._worker = threading.Thread(target=self._serve, name=f"camera:{inner.url}", daemon=True)
        self._worker.start()

    def read(self) -> Frame:
        with self._changed:
            self._asked += 1
            generation = self._waiting = self._asked
            self._result = None
            self._changed.notify_all()
        self._watch.restart()
        try:
            outcome = self._await(generation)
        finally:
            with self._changed:
                self._waiting, self._result = None, None    # an abandoned read's late result is dropped
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _await(self, generation: int) -> Frame | BaseException:
        with self._changed:
            while self._result is None or self._result[0] != generation:
                if self._watch.expired():
                    raise CameraStalled(f"camera {self.url} gave no frame for {self._watch.timeout_s} s")
                self._changed.wait(self._poll_s)
            return self._result[1]

    def _grab(self) -> np.ndarray:  # reads go through the worker; see read()
        raise NotImplementedError

    def _serve(self) -> None:
        while (generation := self._next_request()) is not None:
            outcome = self._read_inner()
            with self._changed:
                if generation == self._waiting:     # else its caller gave up: the frame is not kept
                    self._result = (generation, outcome)
                    self._changed.notify_all()

    def _next_request(self) -> int | None:
        """The generation a caller waits for and no grab has begun for yet; None once closing."""
        with self._changed:
            self._changed.wait_for(lambda: self._closing or (
                self._waiting is not None and self._waiting > self._begun))
            if self._closing or self._waiting is None:
                return None
            self._begun = self._waiting
            return self._begun

    def _read_inner(self) -> Frame | BaseException:
        try:
            return self.inner.read()
        except DriverError as exc:
            return exc
        except Exception as exc:  # a backend bug must reach the caller as a driver fault
            return DriverIOError(f"camera {self.url} failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self.inner.close()
