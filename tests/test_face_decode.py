"""YuNet head decoding, NMS, letterbox, image decoding and model rewriting: no models needed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.face.detector import STRIDES, box_iou, decode_heads, letterbox, non_max_suppression
from firmware_app.face.errors import ImageUnreadable
from firmware_app.face.images import decode_image

ROOT = Path(__file__).resolve().parents[1]


def load_strip_module():
    spec = importlib.util.spec_from_file_location("onnx_rewrite", ROOT / "models" / "onnx_rewrite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def empty_heads(size: int = 640) -> dict[str, np.ndarray]:
    heads = {}
    for stride in STRIDES:
        cells = (size // stride) ** 2
        heads[f"cls_{stride}"] = np.zeros((1, cells, 1), np.float32)
        heads[f"obj_{stride}"] = np.zeros((1, cells, 1), np.float32)
        heads[f"bbox_{stride}"] = np.zeros((1, cells, 4), np.float32)
        heads[f"kps_{stride}"] = np.zeros((1, cells, 10), np.float32)
    return heads


def test_one_anchor_decodes_to_box_and_landmarks_in_pixels():
    heads = empty_heads()
    row, col, index = 10, 20, 10 * 80 + 20     # stride 8 grid is 80x80
    heads["cls_8"][0, index, 0] = 0.81
    heads["obj_8"][0, index, 0] = 1.0
    heads["bbox_8"][0, index] = [0.5, 0.25, np.log(4.0), np.log(2.0)]
    heads["kps_8"][0, index] = [1, 2, 3, 4, 0, 0, -1, 1, 2, -2]
    boxes, marks, scores = decode_heads(heads, 640, 640, 0.5)
    assert scores.tolist() == pytest.approx([0.9])            # sqrt(cls * obj)
    cx, cy, w, h = (col + 0.5) * 8, (row + 0.25) * 8, 32, 16
    assert boxes[0].tolist() == pytest.approx([cx - w / 2, cy - h / 2, w, h])
    assert marks[0][0].tolist() == pytest.approx([(col + 1) * 8, (row + 2) * 8])
    assert marks[0][4].tolist() == pytest.approx([(col + 2) * 8, (row - 2) * 8])


def test_scores_below_threshold_are_dropped_and_inputs_clipped():
    heads = empty_heads()
    heads["cls_32"][0, 5, 0] = 0.2
    heads["obj_32"][0, 5, 0] = 0.2
    heads["cls_16"][0, 7, 0] = 7.0   # out of range: clipped to 1
    heads["obj_16"][0, 7, 0] = 0.64
    _, _, scores = decode_heads(heads, 640, 640, 0.5)
    assert scores.tolist() == pytest.approx([0.8])


def test_nms_keeps_best_of_overlapping_and_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], np.float32)
    scores = np.array([0.7, 0.9, 0.8], np.float32)
    assert non_max_suppression(boxes, scores, 0.3, 10) == [1, 2]
    assert non_max_suppression(boxes, scores, 0.3, 1) == [1]
    assert box_iou(boxes[0], boxes[2]) == 0.0
    assert box_iou(boxes[0], boxes[0]) == pytest.approx(1.0)


def test_letterbox_scales_down_only_and_pads():
    canvas, scale = letterbox(np.full((480, 1280, 3), 9, np.uint8), 640, 640)
    assert canvas.shape == (640, 640, 3) and scale == pytest.approx(0.5)
    assert canvas[239, 639, 0] == 9 and canvas[241, 0, 0] == 0
    _, scale = letterbox(np.zeros((100, 100, 3), np.uint8), 640, 640)
    assert scale == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_decode_survives_hostile_head_values(seed):
    rng = np.random.default_rng(seed)
    heads = {name: (rng.standard_normal(a.shape) * 50).astype(np.float32) for name, a in empty_heads(320).items()}
    heads["bbox_8"][0, 0] = [np.inf, -np.inf, 1e30, np.nan]
    boxes, marks, scores = decode_heads(heads, 320, 320, 0.5)
    assert len(boxes) == len(marks) == len(scores)
    assert np.all((scores >= 0) & (scores <= 1))


def test_decode_image_accepts_jpeg_png_and_jpeg2000():
    image = np.zeros((80, 64, 3), np.uint8)   # JPEG 2000 needs enough pixels for its resolutions
    image[:, :, 2] = 200
    for extension in (".jpg", ".png", ".jp2"):
        ok, data = cv2.imencode(extension, image)
        assert ok
        decoded = decode_image(data.tobytes())
        assert decoded.shape == (80, 64, 3) and decoded[40, 32, 2] > 150


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n"])
def test_decode_image_refuses_garbage(data):
    with pytest.raises(ImageUnreadable):
        decode_image(data)


def test_decode_image_refuses_huge_dimensions_before_decoding():
    ok, data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    png = bytearray(data.tobytes())
    png[16:24] = (100000).to_bytes(4, "big") + (100000).to_bytes(4, "big")  # IHDR width, height
    with pytest.raises(ImageUnreadable):
        decode_image(bytes(png))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_decode_image_fuzz_only_typed_errors(data):
    try:
        decode_image(b"\xff\xd8\xff" + data)
    except ImageUnreadable:
        pass


def test_strip_drops_only_inputs_that_name_initializers():
    strip = load_strip_module()
    field = strip.length_field

    def tensor(name):
        return field(strip.GRAPH_INITIALIZER, field(strip.TENSOR_NAME, name.encode()))

    def value_info(name):
        return field(strip.GRAPH_INPUT, field(strip.VALUE_INFO_NAME, name.encode()))

    graph = value_info("data") + value_info("w1") + tensor("w1") + field(2, b"g")
    model = bytes([0x08, 0x07]) + field(strip.MODEL_GRAPH, graph) + field(8, b"opset")
    stripped, dropped = strip.strip_initializer_inputs(model)
    assert dropped == 1
    kept_graph = value_info("data") + tensor("w1") + field(2, b"g")
    expected = bytes([0x08, 0x07]) + field(strip.MODEL_GRAPH, kept_graph) + field(8, b"opset")
    assert stripped == expected
    assert strip.strip_initializer_inputs(stripped) == (stripped, 0)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=200))
def test_strip_fuzz_only_wire_format_errors(data):
    strip = load_strip_module()
    try:
        strip.strip_initializer_inputs(data)
    except strip.WireFormatError:
        pass


def test_letterbox_to_a_multiple_keeps_the_aspect():
    canvas, scale = letterbox(np.zeros((480, 640, 3), np.uint8), 640, 640, multiple=32)
    assert canvas.shape == (480, 640, 3) and scale == 1.0
    canvas, scale = letterbox(np.zeros((1000, 3000, 3), np.uint8), 640, 640, multiple=32)
    assert canvas.shape == (224, 640, 3) and scale == pytest.approx(640 / 3000)
