"""Cameras, chosen by URL (backends are imported only when chosen).

    file:///path/face.jpg     one image, repeated        (simulated)
    dir:///path/folder        cycles the folder's images (simulated)
    video:///path/clip.mp4    a video file, looped       (simulated)
    usb://0                   OpenCV, device index (refused on a Raspberry Pi: index 0 is the CSI node)
    v4l2:///dev/v4l/by-id/... OpenCV with the V4L2 backend, by a stable name (CSI/ISP nodes refused)
    picamera2://0             Raspberry Pi camera (picamera2)
    sim://                    the simulator's camera: maps to `sim_source` (file/dir/video URL)
                              only when one is configured; never chosen by fallback.
"""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from drivers.camera.base import CameraCapabilities, Clock, ExtraStream, Frame, FrameSource
from drivers.errors import CameraStalled

from ..errors import DriverUnavailable, UnknownBackend
from .picamera2_config import PiCameraSettings
from .supervise import StallWatch, SupervisedSource

__all__ = ["CameraCapabilities", "CameraStalled", "ExtraStream", "Frame", "FrameSource", "PiCameraSettings",
           "StallWatch", "SupervisedSource", "open_camera", "open_supervised_camera"]

SIMULATED_SCHEMES = ("file", "dir", "video")


def open_camera(url: str, *, width: int = 640, height: int = 480, sim_source: str | None = None,
                clock: Clock = time.monotonic, picamera: PiCameraSettings = PiCameraSettings()) -> FrameSource:
    """Open the camera named by `url`; raise UnknownBackend or DriverUnavailable."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme == "sim":
        return _open_sim(url, sim_source, width, height, clock)
    if scheme == "picamera2":
        return _open_picamera2(url, parts, (width, height), clock, picamera)
    opener = _OPENERS.get(scheme)
    if opener is None:
        known = ", ".join(sorted(_OPENERS) + ["picamera2"])
        raise UnknownBackend(f"camera URL {url!r}: unknown scheme {scheme!r} (known: {known}, sim)")
    return opener(url, parts, (width, height), clock)


def open_supervised_camera(url: str, *, stall_timeout_s: float = 1.0, clock: Clock = time.monotonic,
                           **options) -> SupervisedSource:
    return SupervisedSource(open_camera(url, clock=clock, **options), stall_timeout_s, clock)


def _open_sim(url: str, sim_source: str | None, width: int, height: int, clock: Clock) -> FrameSource:
    if not sim_source:
        raise DriverUnavailable("camera 'sim://' needs camera.sim_source (a file://, dir:// or video:// URL)")
    if _split(sim_source).scheme.lower() not in SIMULATED_SCHEMES:
        raise DriverUnavailable(f"camera.sim_source {sim_source!r} must be a file://, dir:// or video:// URL")
    return open_camera(sim_source, width=width, height=height, clock=clock)


def _split(url: str):
    try:
        return urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced '[' in the host part
        raise UnknownBackend(f"camera URL {url!r} is malformed: {exc}") from None


def _path_of(parts) -> Path:
    # file:///abs/x.jpg -> /abs/x.jpg ; file://relative/x.jpg -> relative/x.jpg
    path = parts.netloc + parts.path
    if not path:
        raise DriverUnavailable(f"camera URL {parts.geturl()!r} names no path")
    return Path(path)


def _open_file(url, parts, size, clock):
    from .files import FileSource
    return FileSource(url, _path_of(parts), clock)


def _open_dir(url, parts, size, clock):
    from .files import DirectorySource
    return DirectorySource(url, _path_of(parts), clock)


def _open_video(url, parts, size, clock):
    from .opencv_capture import VideoFileSource
    path = _path_of(parts)
    if not path.is_file():
        raise DriverUnavailable(f"camera video {path} does not exist")
    loop = parse_qs(parts.query).get("loop", ["1"])[0] != "0"
    return VideoFileSource(url, str(path), clock, loop=loop)


def _open_usb(url, parts, size, clock):
    import cv2

    from .opencv_capture import LiveCaptureSource
    from .v4l2_nodes import is_raspberry_pi, refuse_usb_index_on_pi
    index = parts.netloc or parts.path.strip("/") or "0"
    if not index.isdigit():
        raise DriverUnavailable(f"camera URL {url!r}: usb:// takes a device index, e.g. usb://0")
    refuse_usb_index_on_pi(url, is_raspberry_pi())
    return LiveCaptureSource(url, int(index), clock, cv2.CAP_V4L2, size)


def _open_v4l2(url, parts, size, clock):
    import cv2

    from .opencv_capture import LiveCaptureSource
    from .v4l2_nodes import refuse_csi_node
    device = str(_path_of(parts))
    refuse_csi_node(url, device)
    return LiveCaptureSource(url, device, clock, cv2.CAP_V4L2, size)


def _open_picamera2(url, parts, size, clock, settings: PiCameraSettings):
    from .picamera2_backend import PiCameraSource
    index = parts.netloc or "0"
    if not index.isdigit():
        raise DriverUnavailable(f"camera URL {url!r}: picamera2:// takes a camera index")
    return PiCameraSource(url, int(index), size, clock, settings)


_OPENERS = {"file": _open_file, "dir": _open_dir, "video": _open_video, "usb": _open_usb,
            "v4l2": _open_v4l2}
