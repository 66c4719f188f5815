"""Decode untrusted image bytes (camera files, chip DG2 portraits) into BGR arrays, with bounds."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .errors import ImageUnreadable

MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 16


def load_image(path: str | Path) -> np.ndarray:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageUnreadable(f"cannot read image file: {exc.strerror or exc}") from None
    return decode_image(data)


def decode_image(data: bytes) -> np.ndarray:
    """Return an HxWx3 uint8 BGR image; raise ImageUnreadable for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageUnreadable("image data must be bytes")
    if not 0 < len(data) <= MAX_IMAGE_BYTES:
        raise ImageUnreadable(f"image size {len(data)} bytes is outside 1..{MAX_IMAGE_BYTES}")
    width, height = _header_size(bytes(data))
    if width < MIN_SIDE or height < MIN_SIDE or width * height > MAX_PIXELS:
        raise ImageUnreadable(f"image dimensions {width}x{height} are outside the accepted bounds")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise ImageUnreadable("image could not be decoded")
    return image


def _header_size(data: bytes) -> tuple[int, int]:
    # Pillow reads only the header here, so a decompression bomb is refused before decoding.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                return probe.size
    except Exception as exc:  # Pillow raises many unrelated types for hostile headers
        raise ImageUnreadable(f"unrecognised image format ({type(exc).__name__})") from None


def encode_jpeg(image: np.ndarray, max_side: int = 480, quality: int = 85) -> bytes:
    """A BGR image as JPEG, scaled down to `max_side` (the officer console's portrait and live frame)."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width, 1))
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageUnreadable("JPEG encoding failed")
    return data.tobytes()
