"""A camera that stops delivering frames is reported within the stall timeout."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from drivers.camera import CameraStalled, FrameSource, StallWatch, SupervisedSource
from drivers.errors import DriverIOError, DriverTimeout
from tests.fakes import ManualClock, TickingClock


class GatedCamera(FrameSource):
    """Delivers a frame only when the test opens the gate; otherwise blocks like a hung driver."""

    def __init__(self):
        super().__init__("gated://")
        self.gate = threading.Event()
        self.failure: Exception | None = None

    def _grab(self):
        self.gate.wait(5)
        if self.failure is not None:
            raise self.failure
        return np.zeros((32, 32, 3), np.uint8)


def test_stall_watch_uses_the_injected_clock():
    clock = ManualClock()
    watch = StallWatch(1.0, clock)
    clock.now = 0.99
    assert not watch.expired()
    clock.now = 1.0
    assert watch.expired()
    watch.restart()
    assert not watch.expired()


def test_hung_camera_raises_camera_stalled():
    camera = GatedCamera()
    clock = TickingClock(0.05)
    supervised = SupervisedSource(camera, timeout_s=1.0, clock=clock)
    with pytest.raises(CameraStalled) as caught:
        supervised.read()
    assert isinstance(caught.value, DriverTimeout)
    assert 1.0 <= clock.now < 1.5          # decided on the injected clock, just past the timeout
    camera.gate.set()                      # the driver recovers: the late frame is delivered next
    assert supervised.read().image.shape == (32, 32, 3)
    supervised.close()


def test_frames_flow_through_and_backend_errors_keep_their_type():
    camera = GatedCamera()
    camera.gate.set()
    supervised = SupervisedSource(camera, timeout_s=1.0, clock=TickingClock(0.001))
    assert supervised.read().index == 1 and supervised.read().index == 2
    camera.failure = DriverIOError("link broke")
    with pytest.raises(DriverIOError, match="link broke"):
        supervised.read()
    camera.failure = RuntimeError("backend bug")
    with pytest.raises(DriverIOError, match="backend bug"):
        supervised.read()
    supervised.close()


def test_real_clock_stall_is_reported():
    camera = GatedCamera()
    supervised = SupervisedSource(camera, timeout_s=0.2)
    with pytest.raises(CameraStalled):
        supervised.read()
    camera.gate.set()
    supervised.close()
