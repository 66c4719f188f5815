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

    def __init__(self, clock=time.monotonic):
        super().__init__("sim://scene", clock)
        self._lock = threading.Lock()
        self._image = EMPTY_SCENE

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
        time.sleep(0.02)    # a camera delivers frames at its own pace (~50 fps here)
        return image.copy()
