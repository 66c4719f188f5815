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
    camera.gate.set()                      # the driver recovers: the late frame (grab 1) is not reused
    assert supervised.read().index == 2
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


class LateCamera(FrameSource):
    """Grab n blocks until `release[n]` is set (when there is one), then gives an image marked n,
    or raises `failures[n]`: the late answer of a read the supervisor abandoned."""

    def __init__(self):
        super().__init__("late://")
        self.release: dict[int, threading.Event] = {}
        self.failures: dict[int, Exception] = {}
        self.begun = 0
        self.finished = threading.Event()   # the first grab has answered (late)

    def _grab(self):
        self.begun += 1
        number = self.begun
        if number in self.release:
            self.release[number].wait(5)
        if number == 1:
            self.finished.set()
        if number in self.failures:
            raise self.failures[number]
        image = np.zeros((32, 32, 3), np.uint8)
        image[0, 0, 0] = number
        return image


def stalled_then_late(failure: Exception | None = None) -> tuple[LateCamera, SupervisedSource]:
    """Grab 1 stalls past the timeout, then answers late (with `failure` if given)."""
    camera = LateCamera()
    camera.release[1] = threading.Event()
    if failure is not None:
        camera.failures[1] = failure
    supervised = SupervisedSource(camera, timeout_s=1.0, clock=TickingClock(0.05))
    with pytest.raises(CameraStalled):
        supervised.read()
    camera.release[1].set()
    assert camera.finished.wait(5)
    return camera, supervised


def test_a_stalled_reads_late_frame_is_never_given_to_the_next_read():
    camera, supervised = stalled_then_late()
    frame = supervised.read()
    assert int(frame.image[0, 0, 0]) == 2, "the next read got the frame of the read that stalled"
    assert camera.begun == 2
    supervised.close()


def test_a_stalled_reads_late_error_is_not_the_next_reads_error():
    camera, supervised = stalled_then_late(DriverIOError("late failure of an abandoned read"))
    assert int(supervised.read().image[0, 0, 0]) == 2
    supervised.close()


def test_a_camera_still_stuck_stalls_the_next_read_without_a_second_grab():
    camera = LateCamera()
    camera.release[1] = threading.Event()
    supervised = SupervisedSource(camera, timeout_s=1.0, clock=TickingClock(0.05))
    for _ in range(3):
        with pytest.raises(CameraStalled):
            supervised.read()
    assert camera.begun == 1, "a read was started behind the stuck one"
    camera.release[1].set()                 # recovers: only then the next read's own grab begins
    assert int(supervised.read().image[0, 0, 0]) == 2
    supervised.close()
