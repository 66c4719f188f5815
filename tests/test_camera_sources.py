"""Camera backends by URL. One contract, run over every simulated backend; hardware ones marked."""
from __future__ import annotations

from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.camera import Frame, FrameSource, open_camera
from drivers.camera.base import check_frame
from drivers.errors import DriverError, DriverIOError, DriverUnavailable, UnknownBackend
from tests.fakes import TickingClock


def coloured(value: int, size=(48, 64)) -> np.ndarray:
    image = np.zeros((*size, 3), np.uint8)
    image[:, :, 0] = value   # blue channel: survives BGR order intact only if nobody swaps it
    return image


@pytest.fixture
def media(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, value in enumerate((40, 120, 200)):
        cv2.imwrite(str(folder / f"{index:02d}.png"), coloured(value))
    (folder / "notes.txt").write_text("ignored: not an image")
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for value in (40, 120, 200):
        writer.write(coloured(value))
    writer.release()
    return {"file": f"file://{folder / '01.png'}", "dir": f"dir://{folder}", "video": f"video://{video}",
            "folder": folder, "video_path": video}


@pytest.mark.parametrize("kind", ["file", "dir", "video"])
def test_simulated_backend_contract(media, kind):
    with open_camera(media[kind], clock=TickingClock(0.5)) as camera:
        assert isinstance(camera, FrameSource) and camera.simulated
        frames = [camera.read() for _ in range(4)]
    assert all(isinstance(f, Frame) and f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == [1, 2, 3, 4]
    assert [f.timestamp for f in frames] == [0.5, 1.0, 1.5, 2.0]


def test_directory_cycles_in_name_order(media):
    camera = open_camera(media["dir"])
    blues = [int(camera.read().image[0, 0, 0]) for _ in range(4)]
    assert blues == [40, 120, 200, 40]


def test_video_loops_or_ends(media):
    looping = open_camera(media["video"])
    assert len([looping.read() for _ in range(5)]) == 5
    once = open_camera(media["video"] + "?loop=0")
    for _ in range(3):
        once.read()
    with pytest.raises(DriverIOError):
        once.read()


def test_sim_maps_only_to_a_configured_simulated_source(media):
    camera = open_camera("sim://", sim_source=media["dir"])
    assert camera.simulated and camera.read().image.shape == (48, 64, 3)
    with pytest.raises(DriverUnavailable, match="sim_source"):
        open_camera("sim://")
    with pytest.raises(DriverUnavailable):
        open_camera("sim://", sim_source="usb://0")


@pytest.mark.parametrize("url, error", [
    ("ftp://camera", UnknownBackend), ("", UnknownBackend), ("file:///no/such.jpg", DriverUnavailable),
    ("dir:///no/such/folder", DriverUnavailable), ("video:///no/such.mp4", DriverUnavailable),
    ("usb://front", DriverUnavailable), ("file://", DriverUnavailable), ("file://[oops/x.jpg", UnknownBackend),
])
def test_bad_urls_raise_typed_errors(url, error):
    with pytest.raises(error):
        open_camera(url)


def test_empty_folder_and_undecodable_image(media, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DriverUnavailable):
        open_camera(f"dir://{empty}")
    (media["folder"] / "99.jpg").write_bytes(b"\xff\xd8 broken")
    camera = open_camera(media["dir"])
    for _ in range(3):
        camera.read()
    with pytest.raises(DriverIOError):
        camera.read()


@pytest.mark.parametrize("bad", [None, np.zeros((48, 64), np.uint8), np.zeros((48, 64, 3), np.float32),
                                 np.zeros((8, 8, 3), np.uint8), np.zeros((48, 64, 4), np.uint8)])
def test_unusable_frames_are_driver_io_errors(bad):
    with pytest.raises(DriverIOError):
        check_frame(bad, "test://")


@pytest.mark.hardware
@pytest.mark.parametrize("url", ["usb://0", "picamera2://0"])
def test_real_camera_contract(url):
    try:
        camera = open_camera(url)
    except DriverUnavailable as exc:
        pytest.skip(f"{url}: {exc}")
    with camera:
        frame = camera.read()
    assert frame.image.ndim == 3 and frame.image.shape[2] == 3


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60))
def test_any_url_text_gives_a_source_or_a_typed_error(url):
    try:
        if urlsplit(url).scheme.lower() in {"usb", "v4l2", "picamera2"}:
            return  # could open real hardware on a developer's machine
    except ValueError:
        pass
    try:
        open_camera(url).close()
    except DriverError:
        pass


def test_capabilities_default_to_colour_only_and_extra_streams_are_checked():
    from drivers.camera import CameraCapabilities, ExtraStream, FrameSource
    from drivers.errors import DriverIOError

    class NirCamera(FrameSource):
        capabilities = CameraCapabilities(frozenset({ExtraStream.NEAR_INFRARED}))

        def __init__(self, nir_shape=(48, 64)):
            super().__init__("test://nir")
            self.nir_shape = nir_shape

        def _grab(self):
            return np.zeros((48, 64, 3), np.uint8)

        def _grab_extras(self):
            return {ExtraStream.NEAR_INFRARED: np.zeros(self.nir_shape, np.uint8)}

    class Plain(NirCamera):
        capabilities = CameraCapabilities()

    plain = Plain()
    assert plain.read().extras == {} and not plain.capabilities.locked_exposure_sequence
    frames = NirCamera().read_sequence(3)
    assert [f.index for f in frames] == [1, 2, 3]
    assert frames[0].extras[ExtraStream.NEAR_INFRARED].shape == (48, 64)
    with pytest.raises(DriverIOError, match="unusable nir plane"):
        NirCamera(nir_shape=(10, 10)).read()
    with pytest.raises(ValueError):
        plain.read_sequence(17)
