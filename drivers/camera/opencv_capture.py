"""Cameras through OpenCV's VideoCapture: `usb://0`, `v4l2:///dev/video0`, `video://clip.mp4`."""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import DriverIOError, DriverUnavailable
from .base import Clock, FrameSource


class CaptureSource(FrameSource):
    def __init__(self, url: str, target, clock: Clock, api: int = cv2.CAP_ANY,
                 size: tuple[int, int] | None = None, loop: bool = False):
        super().__init__(url, clock)
        self._target, self._api, self._loop = target, api, loop
        self._capture = cv2.VideoCapture(target, api)
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


class VideoFileSource(CaptureSource):
    simulated = True
