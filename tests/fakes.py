"""The suite's one set of clock and camera fakes (conftest.py makes them fixtures too).

Product code takes its clocks as arguments (`clock()` for the wall time or a monotonic reading);
these stand in for them so a test decides when time passes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from drivers.camera import CameraStalled

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


class ManualClock:
    """A monotonic reading (seconds) that moves only when the test sets `now` or calls `advance`."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TickingClock:
    """Moves `step` seconds on every reading, so a polling loop sees time pass without sleeping."""

    def __init__(self, step: float, start: float = 0.0):
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class WallClock:
    """The wall clock (call it: an aware UTC datetime) and a steady clock (`monotonic`). `advance`
    moves both, as real time passing does; `step` moves only the wall clock, as NTP or an operator
    setting the time does. Readings put in `script` are given first, one per call."""

    def __init__(self, now: datetime = START, steady: float = 0.0):
        self.now, self.steady = now, steady
        self.script: list[datetime] = []

    def __call__(self) -> datetime:
        return self.script.pop(0) if self.script else self.now

    def monotonic(self) -> float:
        return self.steady

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
        self.now += timedelta(seconds=seconds)
        self.steady += seconds

    def step(self, delta: timedelta | float) -> None:
        self.now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)


@dataclass
class Shot:
    """A camera frame as drivers.camera delivers it, without NIR/depth streams."""
    image: np.ndarray
    extras: object = None


class ScriptedCamera:
    """Gives the scripted images in turn (the last one repeats). With a clock, each read costs
    `frame_s` of it; after `fail_after` reads it stalls as a hung camera is reported."""

    def __init__(self, images, clock: ManualClock | None = None, frame_s: float = 0.1,
                 fail_after: int | None = None):
        self.images, self.clock, self.frame_s, self.fail_after, self.reads = images, clock, frame_s, fail_after, 0

    def read(self) -> Shot:
        if self.fail_after is not None and self.reads >= self.fail_after:
            raise CameraStalled("scripted stall")
        if self.clock is not None:
            self.clock.advance(self.frame_s)
        image = self.images[min(self.reads, len(self.images) - 1)]
        self.reads += 1
        return Shot(image)
