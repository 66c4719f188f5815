"""The simulator's camera for scripted travellers: shows whichever photo the scenario puts in front
of it (the traveller at the gate), read from the faces directory, never copied anywhere."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from drivers.camera.base import FrameSource
from drivers.camera.files import read_image_file
from drivers.errors import DriverIOError

EMPTY_SCENE = np.full((480, 640, 3), 90, np.uint8)     # nobody in front of the camera


class SceneCamera(FrameSource):
    simulated = True

    def __init__(self, clock=time.monotonic, frame_interval_s: float = 0.02, exposure_s: float = 0.0):
        super().__init__("sim://scene", clock)
        self._lock = threading.Lock()
        self._image = EMPTY_SCENE
        self.frame_interval_s, self.exposure_s = frame_interval_s, exposure_s
        self._last_frame = 0.0
        self._resume = threading.Event()
        self._resume.set()

    def stall(self, stalled: bool) -> None:
        """A stalled camera delivers nothing (a hung USB camera) until released."""
        self._resume.clear() if stalled else self._resume.set()

    def show(self, photo: Path | None) -> None:
        """Put a person (a photo file) in front of the camera; None: nobody."""
        image = EMPTY_SCENE if photo is None else read_image_file(Path(photo))
        with self._lock:
            self._image = image

    def show_image(self, image: np.ndarray) -> None:
        """Put a prepared frame in front of the camera (e.g. a synthesised presentation attack)."""
        with self._lock:
            self._image = image.copy()

    def _grab(self) -> np.ndarray:
        with self._lock:
            image = self._image
        if image is None:
            raise DriverIOError("scene camera has no image")
        self._pace()
        self._resume.wait()
        return image.copy()

    def _pace(self) -> None:
        """A camera delivers frames at its own rate, each after its exposure."""
        now = time.monotonic()
        due = max(self._last_frame + self.frame_interval_s, now + self.exposure_s)
        time.sleep(due - now)
        self._last_frame = due
