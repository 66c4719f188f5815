"""What the camera sees when the traveller's face is not a clean, well-lit portrait: the scenario
keys `live_image` (blurred, dark) and `companion` (a second person beside the traveller). Each is
a plain image transform of the live photo (Pillow; BGR arrays in and out: the transforms are the
same on any channel order), so the appliance's own quality gate judges it."""
from __future__ import annotations

import enum

import numpy as np
from PIL import Image, ImageFilter


class LiveImage(str, enum.Enum):
    """How the live face reaches the camera (scenario key `live_image`)."""
    BLURRED = "blurred"    # out of focus / moving: far below the gate's sharpness limit
    DARK = "dark"          # an unlit lane: the face far below the gate's brightness range


BLUR_SIGMA_OF_WIDTH = 0.02     # Gaussian sigma as a fraction of the image width (~13 px at 640)
DARK_GAIN = 0.15               # brightness kept: a mid-grey face (~120) ends near 18


def blurred(image: np.ndarray) -> np.ndarray:
    sigma = max(2.0, image.shape[1] * BLUR_SIGMA_OF_WIDTH)
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(sigma)))


def dark(image: np.ndarray) -> np.ndarray:
    return (image.astype(np.float32) * DARK_GAIN).astype(np.uint8)


SCENES = {LiveImage.BLURRED: blurred, LiveImage.DARK: dark}


def with_companion(image: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The traveller and another person side by side, both at the traveller's photo height (two
    people at the camera, as when a second person steps up to the kiosk with the traveller)."""
    height = image.shape[0]
    scale = height / other.shape[0]
    size = (max(1, round(other.shape[1] * scale)), height)
    resized = np.asarray(Image.fromarray(other).resize(size, Image.Resampling.LANCZOS))
    return np.ascontiguousarray(np.hstack([image, resized]))
