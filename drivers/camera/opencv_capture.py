"""Cameras through OpenCV's VideoCapture: `usb://0`, `v4l2:///dev/v4l/by-id/...`, `video://clip.mp4`.

A live V4L2 camera queues frames in the driver (OpenCV's V4L2 backend asks for 4 buffers): read
after a pause, the first frames are the queue's, possibly the previous traveller. LiveCaptureSource
asks for one buffer and keeps a thread grabbing (cheap: no decode) so the queue never ages; a read
returns a frame whose grab began at least FRESH_GRABS grabs after the read was asked for, so even
the one frame a driver may still hold from before the request is never returned.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ..errors import DriverIOError, DriverUnavailable
from .base import Clock, FrameSource

FRESH_GRABS = 2            # with one buffer, the first grab after a request may return its frame
FRESH_FRAME_WAIT_S = 2.0   # a live camera gives several frames a second; longer is a fault
GRAB_FAILURES_BEFORE_FAULT = 50
GRAB_RETRY_S = 0.02


class CaptureSource(FrameSource):
    """A video file (simulated camera) or any OpenCV capture read frame by frame as it comes."""

    def __init__(self, url: str, target, clock: Clock, api: int = cv2.CAP_ANY,
                 size: tuple[int, int] | None = None, loop: bool = False,
                 capture_factory: Callable[..., Any] = cv2.VideoCapture):
        super().__init__(url, clock)
        self._target, self._api, self._loop = target, api, loop
        self._capture = capture_factory(target, api)
        if not self._capture.isOpened():
            raise DriverUnavailable(f"camera {url} could not be opened")
        if size is not None:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])

    def _grab(self) -> np.ndarray:
        ok, image = self._capture.read()
        if not ok and self._loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # simulated video: start again
            ok, image = self._capture.read()
        if not ok or image is None:
            raise DriverIOError(f"camera {self.url} delivered no frame")
        return image

    def close(self) -> None:
        self._capture.release()


def _fresh_grabs(capture) -> int:
    """Grabs to skip so the frame is taken after the request: every buffer the driver kept, + 1."""
    try:
        buffers = int(capture.get(cv2.CAP_PROP_BUFFERSIZE))
    except (AttributeError, TypeError, ValueError, cv2.error):
        buffers = 1
    return max(FRESH_GRABS, min(buffers, 32) + 1)


class VideoFileSource(CaptureSource):
    simulated = True


class LiveCaptureSource(CaptureSource):
    """A live camera: one driver buffer, a grabbing thread, and only frames newer than the read."""

    def __init__(self, url: str, target, clock: Clock, api: int = cv2.CAP_V4L2,
                 size: tuple[int, int] | None = None, *,
                 capture_factory: Callable[..., Any] = cv2.VideoCapture,
                 fresh_wait_s: float = FRESH_FRAME_WAIT_S):
        super().__init__(url, target, clock, api, size, capture_factory=capture_factory)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # honoured by the V4L2 backend
        self._fresh_grabs = _fresh_grabs(self._capture)
        self._fresh_wait_s = fresh_wait_s
        self._changed = threading.Condition()
        self._started = 0          # grabs begun
        self._wanted: int | None = None   # deliver the grab with this number (or later)
        self._delivered: np.ndarray | None = None
        self._failures = 0
        self._closing = False
        self._thread = threading.Thread(target=self._keep_grabbing, name=f"grab:{url}", daemon=True)
        self._thread.start()

    def _grab(self) -> np.ndarray:
        with self._changed:
            self._wanted, self._delivered = self._started + self._fresh_grabs, None
            fresh = self._changed.wait_for(lambda: self._delivered is not None or self._closing,
                                           self._fresh_wait_s)
            image, self._wanted, self._delivered = self._delivered, None, None
        if not fresh or image is None:
            raise DriverIOError(f"camera {self.url} delivered no fresh frame in {self._fresh_wait_s:g} s")
        return image

    def _keep_grabbing(self) -> None:
        while not self._closing:
            with self._changed:
                self._started += 1
                number = self._started
            ok = self._capture.grab()
            self._count_failure(ok)
            if not ok:
                time.sleep(GRAB_RETRY_S)  # a failing device must not spin a core
            if ok and self._wanted is not None and number >= self._wanted:
                self._deliver(number, self._capture.retrieve())

    def _count_failure(self, ok: bool) -> None:
        self._failures = 0 if ok else self._failures + 1
        if self._failures >= GRAB_FAILURES_BEFORE_FAULT:
            self._closing = True  # the device is gone: readers get DriverIOError, supervision stalls
            with self._changed:
                self._changed.notify_all()

    def _deliver(self, number: int, retrieved) -> None:
        ok, image = retrieved
        with self._changed:
            # checked again under the lock: the read that wanted this grab may have timed out
            # during the retrieve and a newer read may be waiting; a grab older than it asked is dropped
            if ok and image is not None and self._wanted is not None and number >= self._wanted:
                self._delivered = image
                self._changed.notify_all()

    def close(self) -> None:
        self._closing = True
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=2.0)
        super().close()
