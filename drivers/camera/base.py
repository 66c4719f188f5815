"""The camera interface: a FrameSource gives BGR frames, one per read().

Room for hardware presentation attack detection: a camera declares in `capabilities` the extra
streams it delivers in step with the colour frame (near-infrared, depth), and whether
read_sequence() holds exposure and gain across its frames. Defaults: colour only, no lock. A
backend with extra streams returns them from _grab_extras(), captured with the last _grab();
read() checks them and puts them in Frame.extras, so a NIR or depth PAD backend can be added in
the face stage without changing the lane.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from ..errors import DriverIOError

Clock = Callable[[], float]


MAX_SEQUENCE = 16


class ExtraStream(str, Enum):
    NEAR_INFRARED = "nir"     # HxW uint8, registered to the colour frame
    DEPTH = "depth"           # HxW uint16 millimetres, registered to the colour frame


@dataclass(frozen=True)
class CameraCapabilities:
    extra_streams: frozenset[ExtraStream] = frozenset()
    locked_exposure_sequence: bool = False   # read_sequence() holds exposure and gain


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True)
class Frame:
    image: np.ndarray = field(repr=False)   # HxWx3 uint8, BGR order
    timestamp: float    # from the source's injected clock
    index: int          # 1, 2, ... per source
    extras: Mapping[ExtraStream, np.ndarray] = field(default_factory=dict, repr=False)


class FrameSource(ABC):
    """One camera. Backends implement _grab(); read() checks and stamps what they return."""

    simulated = False
    capabilities = CameraCapabilities()

    def __init__(self, url: str, clock: Clock = time.monotonic):
        self.url = url
        self._clock = clock
        self._count = 0

    def read(self) -> Frame:
        image = self._grab()
        check_frame(image, self.url)
        extras = self._grab_extras() if self.capabilities.extra_streams else {}
        check_extras(extras, image.shape[:2], self.capabilities.extra_streams, self.url)
        self._count += 1
        return Frame(image, self._clock(), self._count, extras)

    def read_sequence(self, count: int) -> list[Frame]:
        """`count` consecutive frames (at most MAX_SEQUENCE); exposure and gain are held across
        them only where capabilities.locked_exposure_sequence says so."""
        if not 1 <= count <= MAX_SEQUENCE:
            raise ValueError(f"a sequence has 1 to {MAX_SEQUENCE} frames, not {count}")
        return [self.read() for _ in range(count)]

    def _grab_extras(self) -> dict[ExtraStream, np.ndarray]:
        """The declared extra streams captured with the last _grab() (backends that have them)."""
        raise DriverIOError(f"camera {self.url} declares extra streams but delivers none")

    @abstractmethod
    def _grab(self) -> np.ndarray:
        """Return the next BGR frame or raise a DriverError."""

    def close(self) -> None:  # noqa: B027 - optional: a backend without a device to release keeps this
        """Release the device; further reads are undefined."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def check_frame(image, url: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise DriverIOError(f"camera {url} gave an unusable frame (shape {shape})")
    if image.shape[0] < 16 or image.shape[1] < 16:
        raise DriverIOError(f"camera {url} gave a {image.shape[1]}x{image.shape[0]} frame")


def check_extras(extras: Mapping, size: tuple[int, int], declared: frozenset, url: str) -> None:
    """Exactly the declared streams, each one plane of the colour frame's size."""
    if set(extras) != set(declared):
        raise DriverIOError(f"camera {url} gave streams {sorted(map(str, extras))}, "
                            f"declared {sorted(map(str, declared))}")
    for stream, plane in extras.items():
        if not isinstance(plane, np.ndarray) or plane.shape != size or plane.dtype not in (np.uint8, np.uint16):
            raise DriverIOError(f"camera {url} gave an unusable {stream.value} plane")
