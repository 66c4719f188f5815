"""Simulated cameras from files: `file://path.jpg` (one image) and `dir://path` (cycles images)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import DriverIOError, DriverUnavailable
from .base import Clock, FrameSource

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".jp2", ".webp"}
MAX_FILE_BYTES = 30 * 1024 * 1024


def read_image_file(path: Path) -> np.ndarray:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DriverUnavailable(f"camera image {path} cannot be opened: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise DriverIOError(f"camera image {path} is {size} bytes, more than {MAX_FILE_BYTES}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DriverIOError(f"camera image {path} could not be decoded")
    return image


class FileSource(FrameSource):
    simulated = True

    def __init__(self, url: str, path: Path, clock: Clock):
        super().__init__(url, clock)
        self._image = read_image_file(path)

    def _grab(self) -> np.ndarray:
        return self._image.copy()


class DirectorySource(FrameSource):
    """Cycles through the folder's images in name order, decoding each when it is due."""

    simulated = True

    def __init__(self, url: str, path: Path, clock: Clock):
        super().__init__(url, clock)
        if not path.is_dir():
            raise DriverUnavailable(f"camera folder {path} does not exist")
        self._paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            raise DriverUnavailable(f"camera folder {path} has no images")
        self._next = 0

    def _grab(self) -> np.ndarray:
        path = self._paths[self._next % len(self._paths)]
        self._next += 1
        return read_image_file(path)
