"""The picamera2 configuration for a gate camera, built without picamera2 (pure, tested anywhere).

picamera2's video configuration picks the sensor mode from the main stream size, which on many
sensors is a cropped (binned-window) mode that narrows the field of view, and its default frame
duration limits cap auto-exposure at one frame time (~33 ms). A gate needs the whole field of view
and exposure that suits its own lighting, so the mode is chosen here (explicitly by index, or the
full-field-of-view mode closest above the output size) and the limits come from the config:

- `max_exposure_ms`: the longest frame (FrameDurationLimits), which bounds auto-exposure. Below one
  frame time at the mode's top rate it cannot shorten exposure: set `exposure_ms` for that.
- `exposure_ms` / `analogue_gain`: fixed values (manual) instead of automatic ones.
- `queue=False`: a capture never returns a frame that was already waiting before the request.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DriverUnavailable


@dataclass(frozen=True)
class PiCameraSettings:
    sensor_mode: int | None = None       # index into Picamera2.sensor_modes; None: chosen here
    max_exposure_ms: float = 50.0
    exposure_ms: float | None = None
    analogue_gain: float | None = None


def _area(rect: Sequence[int]) -> int:
    return int(rect[2]) * int(rect[3])


def _describe(modes: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{i}: {m['size'][0]}x{m['size'][1]} crop {tuple(m['crop_limits'])} "
                     f"{m.get('fps', 0):.0f} fps" for i, m in enumerate(modes))


def choose_sensor_mode(modes: Sequence[Mapping[str, Any]], size: tuple[int, int],
                       wanted: int | None) -> int:
    """The configured mode, or the full-field-of-view mode closest above `size`."""
    if not modes:
        raise DriverUnavailable("the camera reports no sensor modes")
    if wanted is not None:
        if not 0 <= wanted < len(modes):
            raise DriverUnavailable(f"camera.sensor_mode {wanted} does not exist (modes: {_describe(modes)})")
        return wanted
    widest = max(_area(m["crop_limits"]) for m in modes)
    full = [i for i, m in enumerate(modes) if _area(m["crop_limits"]) == widest]
    covering = [i for i in full if modes[i]["size"][0] >= size[0] and modes[i]["size"][1] >= size[1]]
    pick = min if covering else max
    return pick(covering or full, key=lambda i: modes[i]["size"][0] * modes[i]["size"][1])


def frame_duration_limits_us(mode: Mapping[str, Any], settings: PiCameraSettings) -> tuple[int, int]:
    shortest = round(1_000_000 / float(mode.get("fps") or 30.0))
    return shortest, max(shortest, round(settings.max_exposure_ms * 1000))


def build_configuration(modes: Sequence[Mapping[str, Any]], size: tuple[int, int],
                        settings: PiCameraSettings) -> dict[str, Any]:
    """Keyword arguments for Picamera2.create_video_configuration()."""
    mode = modes[choose_sensor_mode(modes, size, settings.sensor_mode)]
    controls: dict[str, Any] = {"FrameDurationLimits": frame_duration_limits_us(mode, settings)}
    if settings.exposure_ms is not None:
        controls["ExposureTime"] = round(settings.exposure_ms * 1000)
    if settings.analogue_gain is not None:
        controls["AnalogueGain"] = float(settings.analogue_gain)
    return {"main": {"format": "RGB888", "size": tuple(size)},
            "sensor": {"output_size": tuple(mode["size"]), "bit_depth": mode["bit_depth"]},
            "controls": controls, "buffer_count": 2, "queue": False}
