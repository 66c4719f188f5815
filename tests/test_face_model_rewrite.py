"""models/onnx_rewrite.py decompose_prelu: the rewritten graph computes PRelu (exactly, or up to
float rounding where it uses x + Relu((s - 1) * x))."""
from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.face import runtime

ROOT = Path(__file__).resolve().parents[1]


def load_rewrite_module():
    spec = importlib.util.spec_from_file_location("onnx_rewrite", ROOT / "models" / "onnx_rewrite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rw = load_rewrite_module()
field = rw.length_field


def varint_field(number: int, value: int) -> bytes:
    return rw.encode_varint(number << 3) + rw.encode_varint(value)


def value_info(name: str, shape: tuple[int, ...]) -> bytes:
    dims = b"".join(field(1, varint_field(1, size)) for size in shape)   # Dimension.dim_value
    tensor_type = varint_field(1, rw.TENSOR_FLOAT) + field(2, dims)       # elem_type, shape
    return field(rw.VALUE_INFO_NAME, name.encode()) + field(2, field(1, tensor_type))


def slope_tensor(name: str, values: list[float]) -> bytes:
    dims = b"".join(varint_field(1, size) for size in (len(values), 1, 1))
    return field(rw.GRAPH_INITIALIZER, dims + varint_field(rw.TENSOR_DATA_TYPE, rw.TENSOR_FLOAT)
                 + field(rw.TENSOR_NAME, name.encode())
                 + field(rw.TENSOR_RAW_DATA, struct.pack(f"<{len(values)}f", *values)))


def two_prelu_model(low: list[float], high: list[float]) -> bytes:
    """x -> PRelu(low slopes) -> PRelu(slopes, some above 1) -> y, opset 11."""
    shape = (1, len(low), 4, 4)
    graph = (rw.node("PRelu", ["x", "s_low"], ["h"], "p1") + rw.node("PRelu", ["h", "s_high"], ["y"], "p2")
             + field(2, b"g") + slope_tensor("s_low", low) + slope_tensor("s_high", high)
             + field(rw.GRAPH_INPUT, value_info("x", shape)) + field(rw.GRAPH_OUTPUT, value_info("y", shape)))
    opset = field(8, field(1, b"") + varint_field(2, 11))
    return varint_field(1, 7) + opset + field(rw.MODEL_GRAPH, graph)


def op_types(model: bytes) -> list[str]:
    graph = next(p for f, _, p, _ in rw.iter_fields(model) if f == rw.MODEL_GRAPH)
    return [rw.string_field(p, rw.NODE_OP_TYPE) for f, _, p, _ in rw.iter_fields(graph) if f == rw.GRAPH_NODE]


def prelu(x: np.ndarray, slopes: list[float]) -> np.ndarray:
    s = np.asarray(slopes, np.float32).reshape(-1, 1, 1)
    return np.where(x > 0, x, x * s).astype(np.float32)


def close_to_prelu(actual: np.ndarray, expected: np.ndarray) -> bool:
    # x + (s - 1) * x rounds twice where s * x rounds once: a few ulps of x (so a slope of
    # -1e-13 may give 0 instead of 1e-13 * |x|); the inputs here are of order 1..10.
    return np.allclose(actual, expected, rtol=1e-6, atol=1e-6)


def test_prelu_rewrite_low_slopes_close_and_high_slopes_exact():
    low, high = [0.25, -0.5, 1.0], [1.5, 0.2, -0.1]
    model = two_prelu_model(low, high)
    rewritten, count = rw.decompose_prelu(model)
    assert count == 2
    assert op_types(rewritten) == ["Mul", "Relu", "Add", "Relu", "Min", "Mul", "Add"]
    before, after = runtime.open_session(model, 2), runtime.open_session(rewritten, 2)
    x = np.random.default_rng(5).normal(0, 3, (1, 3, 4, 4)).astype(np.float32)
    x[0, :, 0, 0] = 0.0
    expected = prelu(prelu(x, low), high)
    assert np.array_equal(before.run(x)["y"], expected)
    assert close_to_prelu(after.run(x)["y"], expected)
    exact_high = two_prelu_model([1.5, 2.0, 0.5], [1.5, 2.0, 0.5])    # general form twice
    assert np.array_equal(runtime.open_session(rw.decompose_prelu(exact_high)[0], 2).run(x)["y"],
                          prelu(prelu(x, [1.5, 2.0, 0.5]), [1.5, 2.0, 0.5]))
    assert rw.decompose_prelu(rewritten) == (rewritten, 0)


def test_prelu_with_a_computed_slope_takes_the_general_form():
    graph = rw.node("PRelu", ["x", "computed"], ["y"], "p") + field(2, b"g")
    rewritten, count = rw.decompose_prelu(field(rw.MODEL_GRAPH, graph))
    assert count == 1 and op_types(rewritten) == ["Relu", "Min", "Mul", "Add"]


def test_malformed_prelu_nodes_are_wire_format_errors():
    for inputs, outputs in ((["x"], ["y"]), (["x", "s"], ["y", "z"])):
        graph = rw.node("PRelu", inputs, outputs, "bad")
        with pytest.raises(rw.WireFormatError):
            rw.decompose_prelu(field(rw.MODEL_GRAPH, graph))
    with pytest.raises(rw.WireFormatError):
        rw.decompose_prelu(b"")


def test_float_values_read_raw_and_float_data_and_refuse_other_types():
    raw = field(rw.TENSOR_RAW_DATA, struct.pack("<2f", 0.5, -2.0))
    assert rw.float_values(raw) == [0.5, -2.0]
    packed = field(rw.TENSOR_FLOAT_DATA, struct.pack("<2f", 0.5, 3.0))
    assert rw.float_values(packed) == [0.5, 3.0]
    assert rw.float_values(varint_field(rw.TENSOR_DATA_TYPE, 7) + raw) is None   # int64
    assert rw.float_values(field(rw.TENSOR_RAW_DATA, b"abc")) is None


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=200))
def test_prelu_rewrite_fuzz_only_wire_format_errors(data):
    try:
        rw.decompose_prelu(data)
    except rw.WireFormatError:
        pass


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 2, width=32), min_size=1, max_size=4), st.integers(0, 10_000))
def test_prelu_rewrite_fuzz_slopes_stay_close(slopes, seed):
    model = two_prelu_model(slopes, slopes)
    rewritten, _ = rw.decompose_prelu(model)
    x = np.random.default_rng(seed).normal(0, 5, (1, len(slopes), 4, 4)).astype(np.float32)
    assert close_to_prelu(runtime.open_session(rewritten, 2).run(x)["y"], prelu(prelu(x, slopes), slopes))


def test_runtime_recognizer_has_no_prelu_left():
    from firmware_app.face.models import load_manifest
    path = load_manifest(ROOT / "models").model_file("recognizer").path
    if not path.exists():
        pytest.skip(f"face models not fetched into {path.parent} (run `make setup`)")
    kinds = set(op_types(path.read_bytes()))
    assert "PRelu" not in kinds and {"Relu", "Add", "Conv"} <= kinds


def test_runtime_recognizer_embeds_real_faces_as_the_prelu_model_does(shared_data, request):
    """Same embeddings on real aligned photos as the model before the PRelu rewrite."""
    from firmware_app.face.align import align_face
    from firmware_app.face.embedder import SFaceEmbedder
    from firmware_app.face.images import load_image
    from firmware_app.face.models import ModelFile, load_manifest, read_verified
    from firmware_app.face.quality import primary_face
    manifest = load_manifest(ROOT / "models")
    source = manifest.models["recognizer"]
    if not manifest.model_file("recognizer").path.exists():
        pytest.skip("face models not fetched (run `make setup`)")
    verifier = request.getfixturevalue("verifier")        # after the skip: it needs the models
    original = read_verified(ModelFile("recognizer", ROOT / "models" / source["file"], source["sha256"]))
    prelu_kept = SFaceEmbedder(runtime.open_session(rw.strip_initializer_inputs(original)[0], 2))
    photos = sorted((shared_data / "faces").glob("person0[1-3]/*.jpg"))[:6]
    for photo in photos:
        image = load_image(photo)
        aligned = align_face(image, primary_face(verifier.detector.detect(image)))
        assert np.max(np.abs(verifier.embedder.embed(aligned) - prelu_kept.embed(aligned))) <= 1e-6
    assert photos
