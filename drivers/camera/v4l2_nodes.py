"""Which V4L2 device nodes may be opened as a face camera.

On a Raspberry Pi the CSI camera's receiver (unicam, or rp1-cfe on a Pi 5) and the ISP register
V4L2 nodes too, usually the first ones: `usb://0` (= /dev/video0) opens the CSI receiver's raw
Bayer node, not the USB camera. So on a Pi a USB camera is named by its stable udev path
(/dev/v4l/by-id/usb-...-video-index0) and a node that belongs to the CSI/ISP pipeline is refused;
the Pi camera itself is `picamera2://N`.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DriverUnavailable

PI_MODEL = Path("/proc/device-tree/model")
SYSFS_V4L = Path("/sys/class/video4linux")
# names the kernel gives the nodes of the Pi camera pipeline (sysfs video4linux/videoN/name)
CSI_NODE_PREFIXES = ("unicam", "bcm2835-unicam", "rp1-cfe", "bcm2835-isp", "pispbe",
                     "bcm2835-codec", "bcm2835-v4l2")
BY_ID_HINT = "v4l2:///dev/v4l/by-id/usb-<camera>-video-index0 (see `ls -l /dev/v4l/by-id`)"


def is_raspberry_pi(model_path: Path = PI_MODEL) -> bool:
    try:
        return "raspberry pi" in model_path.read_bytes().decode("ascii", "replace").lower()
    except OSError:
        return False


def node_name(device: str | Path, sysfs: Path = SYSFS_V4L) -> str | None:
    """The kernel's name of a /dev/videoN node (through any by-id/by-path symlink), if known."""
    real = Path(os.path.realpath(device))
    try:
        return (sysfs / real.name / "name").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def refuse_usb_index_on_pi(url: str, on_pi: bool) -> None:
    if on_pi:
        raise DriverUnavailable(f"camera {url}: on a Raspberry Pi a device index opens the CSI camera's "
                                f"raw node, not a USB camera; name the USB camera as {BY_ID_HINT}, "
                                f"or use picamera2://0 for the Pi camera")


def refuse_csi_node(url: str, device: str | Path, sysfs: Path = SYSFS_V4L) -> None:
    name = node_name(device, sysfs)
    if name and name.lower().startswith(CSI_NODE_PREFIXES):
        raise DriverUnavailable(f"camera {url}: {device} is the Raspberry Pi camera pipeline's raw node "
                                f"({name}), not a camera OpenCV can use; use picamera2://0 for the Pi "
                                f"camera or {BY_ID_HINT} for a USB camera")
