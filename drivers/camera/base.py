"""The camera interface: a FrameSource gives BGR frames, one per read()."""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import DriverIOError, DriverTimeout

Clock = Callable[[], float]


class CameraStalled(DriverTimeout):
    """The camera delivered no frame within the stall timeout."""


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True)
class Frame:
    image: np.ndarray = field(repr=False)   # HxWx3 uint8, BGR order
    timestamp: float    # from the source's injected clock
    index: int          # 1, 2, ... per source


class FrameSource(ABC):
    """One camera. Backends implement _grab(); read() checks and stamps what they return."""

    simulated = False

    def __init__(self, url: str, clock: Clock = time.monotonic):
        self.url = url
        self._clock = clock
        self._count = 0

    def read(self) -> Frame:
        image = self._grab()
        check_frame(image, self.url)
        self._count += 1
        return Frame(image, self._clock(), self._count)

    @abstractmethod
    def _grab(self) -> np.ndarray:
        """Return the next BGR frame or raise a DriverError."""

    def close(self) -> None:
        """Release the device; further reads are undefined."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def check_frame(image, url: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise DriverIOError(f"camera {url} gave an unusable frame (shape {shape})")
    if image.shape[0] < 16 or image.shape[1] < 16:
        raise DriverIOError(f"camera {url} gave a {image.shape[1]}x{image.shape[0]} frame")
