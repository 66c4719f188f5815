"""Live cameras: OpenCV V4L2 capture never hands out a frame taken before the read (a fake V4L2
device with a driver queue, inside this unit test), picamera2 configuration built explicitly
(picamera2 is not installable here), and which device nodes a gate may open."""
from __future__ import annotations

import collections
import threading
import time

import cv2
import numpy as np
import pytest

from drivers.camera import PiCameraSettings, open_camera
from drivers.camera.opencv_capture import CaptureSource, LiveCaptureSource
from drivers.camera.picamera2_config import build_configuration, choose_sensor_mode
from drivers.camera.v4l2_nodes import is_raspberry_pi, node_name, refuse_csi_node, refuse_usb_index_on_pi
from drivers.errors import DriverIOError, DriverUnavailable
from firmware_app.config.load import parse_config
from tests.polling import wait_until


class FakeV4l2Device:
    """Captures a numbered frame every `period_s` into a driver queue (4 buffers unless the
    capture asks for fewer), like a UVC camera: grab() dequeues the oldest, waiting for one."""

    def __init__(self, target=None, api=None, period_s: float = 0.004):
        self.period_s, self.buffers = period_s, 4
        self.queue: collections.deque = collections.deque()
        self.taken_at: dict[int, float] = {}
        self.lock, self.ready = threading.Lock(), threading.Condition()
        self.current, self.running, self.count = None, True, 0
        self.honours_buffer_size = True
        threading.Thread(target=self._sensor, daemon=True).start()

    def _sensor(self):
        while self.running:
            time.sleep(self.period_s)
            with self.ready:
                self.count += 1
                self.taken_at[self.count] = time.monotonic()
                if len(self.queue) < self.buffers:   # a full queue drops new frames (V4L2)
                    self.queue.append(self.count)
                self.ready.notify_all()

    def isOpened(self):
        return True

    def set(self, prop, value):
        if prop == cv2.CAP_PROP_BUFFERSIZE and self.honours_buffer_size:
            self.buffers = int(value)
        return True

    def get(self, prop):
        return float(self.buffers) if prop == cv2.CAP_PROP_BUFFERSIZE else 0.0

    def grab(self):
        with self.ready:
            if not self.ready.wait_for(lambda: self.queue, 1.0):
                return False
            self.current = self.queue.popleft()
        return True

    def retrieve(self):
        image = np.zeros((24, 32, 3), np.uint8)
        image[0, 0, 0], image[0, 0, 1] = self.current % 256, self.current // 256
        return True, image

    def read(self):
        return (self.grab() and self.retrieve()) or (False, None)

    def release(self):
        self.running = False


def frame_number(image) -> int:
    return int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])


@pytest.mark.parametrize("honours_buffer_size", [True, False], ids=["one-buffer", "driver-keeps-4"])
def test_a_frame_older_than_the_read_is_never_returned(honours_buffer_size):
    device = FakeV4l2Device()
    device.honours_buffer_size = honours_buffer_size
    camera = LiveCaptureSource("usb://0", 0, time.monotonic, capture_factory=lambda *a: device)
    try:
        for pause in (0.05, 0.0, 0.1, 0.02):
            time.sleep(pause)                  # the gate idles between travellers
            asked_at = time.monotonic()        # the transaction asks for a face
            number = frame_number(camera.read().image)
            assert device.taken_at[number] >= asked_at
    finally:
        camera.close()
    assert device.buffers == (1 if honours_buffer_size else 4)


class HungRetrieveDevice(FakeV4l2Device):
    """The first retrieve hangs until released: a driver stuck copying a frame out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.retrieving, self.unhang = threading.Event(), threading.Event()

    def retrieve(self):
        if not self.retrieving.is_set():
            self.retrieving.set()
            self.unhang.wait(5)
        return super().retrieve()


def test_a_frame_retrieved_for_a_read_that_gave_up_is_not_given_to_the_next_read():
    device = HungRetrieveDevice()
    camera = LiveCaptureSource("usb://0", 0, time.monotonic, capture_factory=lambda *a: device,
                               fresh_wait_s=0.3)
    try:
        for _ in range(10):                    # until a read gave up while its frame hangs in retrieve
            with pytest.raises(DriverIOError, match="no fresh frame"):
                camera.read()
            if device.retrieving.is_set():
                break
        assert device.retrieving.is_set()
        late, frames = device.current, []
        reader = threading.Thread(target=lambda: frames.append(camera.read()))
        reader.start()
        assert wait_until(lambda: camera._wanted is not None)      # the next read waits for its grab
        device.unhang.set()                    # the hung retrieve now hands over the old grab
        reader.join(5)
        assert frames and frame_number(frames[0].image) > late, "the next read got the abandoned read's frame"
    finally:
        camera.close()


def test_without_the_fix_the_queued_frame_from_before_is_returned():
    """The plain capture (as usb:// was) hands out the driver queue's oldest frame after a pause."""
    device = FakeV4l2Device()
    camera = CaptureSource("usb://0", 0, time.monotonic, capture_factory=lambda *a: device)
    time.sleep(0.1)
    asked_at = time.monotonic()
    number = frame_number(camera.read().image)
    camera.close()
    assert device.taken_at[number] < asked_at


def test_a_dead_device_is_an_io_error_not_a_hang():
    device = FakeV4l2Device()
    device.running = False                      # no frame will ever come
    camera = LiveCaptureSource("usb://0", 0, time.monotonic, capture_factory=lambda *a: device,
                               fresh_wait_s=0.2)
    with pytest.raises(DriverIOError, match="no fresh frame"):
        camera.read()
    camera.close()


IMX219_MODES = [   # as Picamera2.sensor_modes reports them (Pi camera v2)
    {"size": (640, 480), "crop_limits": (1000, 752, 1280, 960), "bit_depth": 10, "fps": 206.65},
    {"size": (1640, 1232), "crop_limits": (0, 0, 3280, 2464), "bit_depth": 10, "fps": 41.85},
    {"size": (1920, 1080), "crop_limits": (680, 692, 1920, 1080), "bit_depth": 10, "fps": 47.57},
    {"size": (3280, 2464), "crop_limits": (0, 0, 3280, 2464), "bit_depth": 10, "fps": 21.19},
]


def test_sensor_mode_keeps_the_full_field_of_view():
    # picamera2 alone would pick the 640x480 mode for a 640x480 stream: a centre crop
    assert choose_sensor_mode(IMX219_MODES, (640, 480), None) == 1
    assert choose_sensor_mode(IMX219_MODES, (2000, 1500), None) == 3
    assert choose_sensor_mode(IMX219_MODES, (4000, 3000), None) == 3   # nothing covers: the largest
    assert choose_sensor_mode(IMX219_MODES, (640, 480), 2) == 2
    with pytest.raises(DriverUnavailable, match="modes: 0: 640x480"):
        choose_sensor_mode(IMX219_MODES, (640, 480), 7)


def test_configuration_carries_mode_exposure_and_gain_limits():
    options = build_configuration(IMX219_MODES, (640, 480), PiCameraSettings(max_exposure_ms=80))
    assert options["main"] == {"format": "RGB888", "size": (640, 480)}
    assert options["sensor"] == {"output_size": (1640, 1232), "bit_depth": 10}
    assert options["controls"] == {"FrameDurationLimits": (23895, 80000)}   # AE up to 80 ms, not 33
    assert options["queue"] is False                  # never a frame that waited before the request
    manual = build_configuration(IMX219_MODES, (640, 480),
                                 PiCameraSettings(sensor_mode=3, exposure_ms=12.5, analogue_gain=4))
    assert manual["sensor"]["output_size"] == (3280, 2464)
    assert manual["controls"]["ExposureTime"] == 12500 and manual["controls"]["AnalogueGain"] == 4.0


def test_camera_section_keys_and_their_checks():
    head = '[device]\nid="g"\npost_id="p"\n[reader]\nurl="/dev/x"\n[camera]\nurl="picamera2://0"\n'
    config = parse_config(head + "sensor_mode = 1\nmax_exposure_ms = 80\nanalogue_gain = 4.0\n")
    assert (config.camera.sensor_mode, config.camera.max_exposure_ms) == (1, 80)
    for bad in ("exposure_ms = 90\nmax_exposure_ms = 50", "analogue_gain = 64", "max_exposure_ms = 0"):
        with pytest.raises(Exception) as caught:
            parse_config(head + bad + "\n")
        assert all(p.startswith("camera") for p in caught.value.problems)


def test_picamera2_url_without_picamera2_is_unavailable_not_simulated():
    with pytest.raises(DriverUnavailable, match="picamera2 is not installed"):
        open_camera("picamera2://0", picamera=PiCameraSettings(sensor_mode=1))


def test_usb_index_refused_on_a_raspberry_pi(tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert is_raspberry_pi(model) and not is_raspberry_pi(tmp_path / "missing")
    with pytest.raises(DriverUnavailable, match="/dev/v4l/by-id"):
        refuse_usb_index_on_pi("usb://0", on_pi=True)
    refuse_usb_index_on_pi("usb://0", on_pi=False)


@pytest.mark.parametrize("name, refused", [("unicam-image", True), ("rp1-cfe-csi2_ch0", True),
                                           ("bcm2835-isp-capture0", True), ("pispbe-output0", True),
                                           ("HD Pro Webcam C920", False)])
def test_raw_csi_nodes_are_refused_by_their_kernel_name(tmp_path, name, refused):
    sysfs = tmp_path / "video4linux"
    (sysfs / "video0").mkdir(parents=True)
    (sysfs / "video0" / "name").write_text(name + "\n")
    by_id = tmp_path / "usb-camera-video-index0"
    by_id.symlink_to("/dev/video0")
    assert node_name(by_id, sysfs) == name
    if refused:
        with pytest.raises(DriverUnavailable, match="picamera2://0"):
            refuse_csi_node("v4l2:///dev/video0", by_id, sysfs)
    else:
        refuse_csi_node("v4l2:///dev/video0", by_id, sysfs)
