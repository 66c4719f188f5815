"""Synthesised presentation attacks (bench face_pad, and the attack traveller of a scenario).

Each attack turns a genuine photo into a 640x480 camera frame of that photo being presented:
- print_border: a print with a white paper border, tilted, held in front of a scene;
- screen: a tablet screen (dark bezel) with moire, a blue colour cast and a glare spot;
- phone: a small phone (thick bezel, rounded) held up, the face small in the frame;
- close_up_print: a print filling the whole frame (no edge of the medium is visible).
All randomness comes from the `rng` passed in, so a run is repeatable. These are approximations
of real attacks (no paper grain, no real display subpixels, no hand): figures from them are a
first look, not an ISO/IEC 30107-3 evaluation.
"""
from __future__ import annotations

import cv2
import numpy as np

FRAME_W, FRAME_H = 640, 480
ATTACKS = ("print_border", "screen", "phone", "close_up_print")


def camera_frame(photo: np.ndarray) -> np.ndarray:
    """A genuine photo as a 640x480 frame: centre crop to 4:3, then resize."""
    return cv2.resize(_crop_aspect(photo, FRAME_W / FRAME_H), (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)


def _crop_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    h, w = image.shape[:2]
    if w / h > aspect:
        new_w = int(h * aspect)
        return image[:, (w - new_w) // 2:(w - new_w) // 2 + new_w]
    new_h = int(w / aspect)
    return image[(h - new_h) // 2:(h - new_h) // 2 + new_h]


def scene(rng: np.random.Generator) -> np.ndarray:
    """The room behind the attacker, without faces: a lit wall gradient and defocused blocks
    (door, shelves, a coat) in muted colours."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    base = rng.uniform(90, 190, 3).astype(np.float32)
    light = 1.0 + 0.25 * np.cos((xx / FRAME_W - rng.uniform(0, 1)) * np.pi)[..., None]
    room = base * light + 0 * yy[..., None]
    for _ in range(rng.integers(3, 7)):
        x0, y0 = int(rng.uniform(0, FRAME_W)), int(rng.uniform(0, FRAME_H))
        x1, y1 = x0 + int(rng.uniform(40, 250)), y0 + int(rng.uniform(40, 300))
        room[y0:y1, x0:x1] = rng.uniform(30, 220, 3)
    return cv2.GaussianBlur(np.clip(room, 0, 255).astype(np.uint8), (0, 0), 5)


def _capture(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The camera's own look: slight defocus, sensor noise, JPEG."""
    frame = cv2.GaussianBlur(frame, (0, 0), 0.7)
    noisy = frame.astype(np.float32) + rng.normal(0, 3.0, frame.shape)
    _ok, data = cv2.imencode(".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _printed(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink on paper: lower contrast, warmer white point, a halftone-like fine pattern."""
    out = photo.astype(np.float32) * 0.82 + 25
    out *= np.array([0.93, 0.98, 1.0], np.float32)          # BGR: slightly yellow paper
    yy, xx = np.mgrid[0:photo.shape[0], 0:photo.shape[1]]
    out += 6 * np.sin((xx + yy) * 1.9)[..., None] * rng.uniform(0.6, 1.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _paste(canvas: np.ndarray, item: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Warp `item` onto `corners` (4x2, clockwise from top-left) of the canvas."""
    h, w = item.shape[:2]
    source = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    warped = cv2.warpPerspective(item, matrix, (canvas.shape[1], canvas.shape[0]))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (canvas.shape[1], canvas.shape[0]))
    out = canvas.copy()
    out[mask > 127] = warped[mask > 127]
    return out


def _placed(width: float, height: float, rng: np.random.Generator) -> np.ndarray:
    """Corners of a held medium, roughly centred, tilted a little (perspective and roll)."""
    cx = FRAME_W / 2 + rng.uniform(-60, 60)
    cy = FRAME_H / 2 + rng.uniform(-30, 30)
    corners = np.array([[-width / 2, -height / 2], [width / 2, -height / 2],
                        [width / 2, height / 2], [-width / 2, height / 2]])
    angle = np.radians(rng.uniform(-8, 8))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = corners @ rotation.T
    corners[:, 0] *= 1 + np.array([-1, 1, 1, -1]) * rng.uniform(-0.06, 0.06) * np.array([0, 0, 1, 1])
    return corners + [cx, cy]


def print_border(photo, rng, box=None):
    paper = _printed(camera_frame(photo), rng)
    margin = int(paper.shape[1] * rng.uniform(0.06, 0.12))
    paper = cv2.copyMakeBorder(paper, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(228, 236, 240))
    scale = rng.uniform(0.55, 0.8)
    corners = _placed(FRAME_W * scale, FRAME_W * scale * paper.shape[0] / paper.shape[1], rng)
    return _capture(_paste(scene(rng), paper, corners), rng)


def _displayed(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An image on an LCD as a camera sees it: moire bands, blue cast, a glare spot."""
    out = photo.astype(np.float32)
    yy, xx = np.mgrid[0:photo.shape[0], 0:photo.shape[1]]
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(3.0, 7.0)
    moire = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    out *= (1 + 0.10 * moire)[..., None]
    out = out * np.array([1.12, 1.0, 0.88], np.float32) + np.array([10, 0, -5], np.float32)  # BGR: bluish
    gx, gy = rng.uniform(0.2, 0.8) * photo.shape[1], rng.uniform(0.1, 0.5) * photo.shape[0]
    glare = np.exp(-(((xx - gx) / (photo.shape[1] * 0.18)) ** 2 + ((yy - gy) / (photo.shape[0] * 0.12)) ** 2))
    out += 120 * glare[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _with_bezel(display: np.ndarray, fraction: float) -> np.ndarray:
    pad = int(display.shape[1] * fraction)
    return cv2.copyMakeBorder(display, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(18, 18, 20))


def screen(photo, rng, box=None):
    device = _with_bezel(_displayed(camera_frame(photo), rng), rng.uniform(0.04, 0.07))
    scale = rng.uniform(0.6, 0.85)
    corners = _placed(FRAME_W * scale, FRAME_W * scale * device.shape[0] / device.shape[1], rng)
    return _capture(_paste(scene(rng), device, corners), rng)


def phone(photo, rng, box=None):
    portrait = cv2.resize(_crop_aspect(photo, 9 / 16), (270, 480), interpolation=cv2.INTER_AREA)
    device = _with_bezel(_displayed(portrait, rng), rng.uniform(0.05, 0.09))
    height = FRAME_H * rng.uniform(0.55, 0.8)
    corners = _placed(height * device.shape[1] / device.shape[0], height, rng)
    return _capture(_paste(scene(rng), device, corners), rng)


def close_up_print(photo, rng, box=None):
    """The print fills the frame: the face and a little around it, no paper edge in view."""
    if box is not None:
        photo = _around(photo, box, rng.uniform(1.5, 2.0))
    return _capture(_printed(camera_frame(photo), rng), rng)


def _around(photo: np.ndarray, box, factor: float) -> np.ndarray:
    x, y, w, h = box
    side_h = h * factor
    side_w = side_h * FRAME_W / FRAME_H
    cx, cy = x + w / 2, y + h / 2
    left, top = int(max(0, cx - side_w / 2)), int(max(0, cy - side_h / 2))
    right, bottom = int(min(photo.shape[1], cx + side_w / 2)), int(min(photo.shape[0], cy + side_h / 2))
    return photo[top:bottom, left:right]


SYNTHESISERS = {"print_border": print_border, "screen": screen, "phone": phone, "close_up_print": close_up_print}
