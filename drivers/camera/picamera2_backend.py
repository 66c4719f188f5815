"""Raspberry Pi camera through picamera2, imported only when this backend is chosen.

picamera2's "RGB888" format is laid out B, G, R in memory: exactly the BGR that OpenCV and the
face stage expect, so no channel swap is done here. The configuration (sensor mode, exposure and
gain limits, no queued frames) is built by picamera2_config.py.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import DriverError, DriverIOError, DriverUnavailable
from .base import Clock, FrameSource
from .picamera2_config import PiCameraSettings, build_configuration

log = logging.getLogger(__name__)


class PiCameraSource(FrameSource):
    def __init__(self, url: str, camera_index: int, size: tuple[int, int], clock: Clock,
                 settings: PiCameraSettings = PiCameraSettings()):
        super().__init__(url, clock)
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise DriverUnavailable("picamera2 is not installed (only available on a Raspberry Pi)") from None
        try:
            self._camera = Picamera2(camera_index)
            options = build_configuration(self._camera.sensor_modes, size, settings)
            self._camera.configure(self._camera.create_video_configuration(**options))
            self._camera.start()
        except DriverError:
            raise
        except Exception as exc:  # libcamera raises its own untyped errors
            raise DriverUnavailable(f"camera {url} could not be started: {type(exc).__name__}: {exc}") from None
        log.info("picamera2 %s: sensor %s, controls %s", url, options["sensor"], options["controls"])

    def _grab(self) -> np.ndarray:
        try:
            return self._camera.capture_array("main")
        except Exception as exc:  # libcamera raises its own untyped errors
            raise DriverIOError(f"camera {self.url} capture failed: {type(exc).__name__}") from None

    def close(self) -> None:
        try:
            self._camera.stop()
            self._camera.close()
        except Exception:  # closing a broken camera must not mask the original fault
            pass
