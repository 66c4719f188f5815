"""Decode a chip portrait (JPEG or JPEG 2000, which OpenCV builds may lack) with Pillow, as BGR.

Only the decode worker calls this (through face.untrusted, which bounds the header and the time);
it imports neither OpenCV nor numpy, so the worker starts quickly (~0.1 s instead of ~0.5 s).
"""
from __future__ import annotations

import io
import warnings

from PIL import Image

from .errors import ImageUnreadable

MAX_PIXELS = 40_000_000


def decode_portrait_bgr(data: bytes) -> tuple[int, int, bytes]:
    """(height, width, pixels as B, G, R bytes row by row)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageUnreadable(f"portrait of {img.width}x{img.height} pixels is too large")
                red, green, blue = img.convert("RGB").split()
                return img.height, img.width, Image.merge("RGB", (blue, green, red)).tobytes()
    except ImageUnreadable:
        raise
    except Exception as exc:  # Pillow raises many unrelated types for hostile data
        raise ImageUnreadable(f"portrait cannot be decoded ({type(exc).__name__})") from None
