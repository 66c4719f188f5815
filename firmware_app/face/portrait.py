"""Make a chip-quality portrait from a photo: ICAO-like crop, ~240 px wide, ~15 KB JPEG or JPEG 2000.

Used to evaluate verification against the small references found in real DG2 files and by the
simulator to build DG2 portraits. Pure image work, no models.
"""
from __future__ import annotations

from enum import Enum

import cv2
import numpy as np

from .detector import Face

EYE_DISTANCE_SHARE = 0.25   # inter-eye distance as a share of the portrait width
EYE_LINE_FROM_TOP = 0.45    # ICAO 9303: eyes a little above the middle of the portrait
ASPECT = 4 / 3              # height / width


class PortraitCodec(str, Enum):
    JPEG = "jpeg"
    JPEG2000 = "jp2"


def crop_portrait(image: np.ndarray, face: Face, width: int) -> np.ndarray:
    eyes = (face.landmarks[0] + face.landmarks[1]) / 2
    crop_w = face.eye_distance / EYE_DISTANCE_SHARE
    scale = width / crop_w
    height = round(width * ASPECT)
    # Affine map: eye midpoint -> (width/2, height*EYE_LINE_FROM_TOP), uniform scale, no rotation.
    matrix = np.array([[scale, 0, width / 2 - scale * eyes[0]],
                       [0, scale, height * EYE_LINE_FROM_TOP - scale * eyes[1]]], dtype=np.float64)
    small = image
    if scale < 0.5:  # shrink with area averaging first so the portrait is not aliased
        small = cv2.resize(image, None, fx=2 * scale, fy=2 * scale, interpolation=cv2.INTER_AREA)
        matrix[:, :2] /= 2 * scale
    return cv2.warpAffine(small, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def encode_to_size(image: np.ndarray, codec: PortraitCodec, max_bytes: int) -> bytes:
    """Best quality whose encoding fits in max_bytes (binary search on the codec's quality knob)."""
    extension, knob, low, high = _codec_params(codec)
    best = None
    while low <= high:
        middle = (low + high) // 2
        ok, encoded = cv2.imencode(extension, image, [knob, middle])
        if ok and len(encoded) <= max_bytes:
            best, low = encoded.tobytes(), middle + 1
        else:
            high = middle - 1
    if best is None:
        ok, encoded = cv2.imencode(extension, image, [knob, _codec_params(codec)[2]])
        best = encoded.tobytes()
    return best


def _codec_params(codec: PortraitCodec) -> tuple[str, int, int, int]:
    if codec is PortraitCodec.JPEG:
        return ".jpg", cv2.IMWRITE_JPEG_QUALITY, 5, 95
    return ".jp2", cv2.IMWRITE_JPEG2000_COMPRESSION_X1000, 5, 1000


def chip_portrait(image: np.ndarray, face: Face, codec: PortraitCodec = PortraitCodec.JPEG,
                  width: int = 240, max_bytes: int = 15_000) -> bytes:
    return encode_to_size(crop_portrait(image, face, width), codec, max_bytes)
