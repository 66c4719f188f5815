"""Model files: hash checks, the derived SFace file, the shared thread pool, warm verifier."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from firmware_app.face import runtime
from firmware_app.face.errors import ModelUnavailable, ThreadPoolConflict, ThresholdNotCalibrated
from firmware_app.face.models import ModelFile, load_manifest, read_verified
from firmware_app.face.verifier import build_verifier, resolve_threshold

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def manifest():
    loaded = load_manifest(MODELS)
    for role in ("detector", "recognizer"):
        if not loaded.model_file(role).path.exists():
            pytest.skip(f"face models not fetched into {MODELS} (run `make setup`)")
    return loaded


def test_altered_or_missing_model_is_refused(manifest, tmp_path):
    detector = manifest.model_file("detector")
    copy = tmp_path / detector.path.name
    shutil.copy(detector.path, copy)
    with copy.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01")
    with pytest.raises(ModelUnavailable, match="sha256"):
        read_verified(ModelFile("detector", copy, detector.sha256))
    with pytest.raises(ModelUnavailable, match="missing"):
        read_verified(ModelFile("detector", tmp_path / "absent.onnx", detector.sha256))


def test_unreadable_manifest_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelUnavailable):
        load_manifest(tmp_path)
    with pytest.raises(ModelUnavailable):
        build_verifier(tmp_path / "nowhere")


def test_threshold_comes_from_config_or_manifest_or_nowhere(manifest):
    threshold, fmr = manifest.threshold()
    assert threshold is not None and 0 < threshold < 1 and fmr == pytest.approx(0.001)
    assert resolve_threshold(0.5, threshold) == 0.5
    assert resolve_threshold(None, threshold) == threshold
    with pytest.raises(ThresholdNotCalibrated):
        resolve_threshold(None, None)


def test_derived_recognizer_gives_the_same_embeddings(manifest):
    source = manifest.models["recognizer"]
    original = runtime.open_session(read_verified(ModelFile("r", MODELS / source["file"], source["sha256"])), 2)
    derived = runtime.open_session(read_verified(manifest.model_file("recognizer")), 2)
    assert derived.input_name == "data" and len(derived.output_names) == 1
    rng = np.random.default_rng(7)
    for _ in range(3):
        crop = rng.uniform(0, 255, (1, 3, 112, 112)).astype(np.float32)
        a, b = original.run(crop)["fc1"], derived.run(crop)["fc1"]
        assert np.max(np.abs(a - b)) < 1e-4 * max(1.0, float(np.max(np.abs(a))))


def test_derived_detector_is_identical_and_takes_any_multiple_of_32(manifest):
    source = manifest.models["detector"]
    original = runtime.open_session(read_verified(ModelFile("d", MODELS / source["file"], source["sha256"])), 2)
    derived = runtime.open_session(read_verified(manifest.model_file("detector")), 2)
    assert original.input_shape == (1, 3, 640, 640) and derived.input_shape[2:] == ("height", "width")
    frame = np.random.default_rng(3).uniform(0, 255, (1, 3, 640, 640)).astype(np.float32)
    a, b = original.run(frame), derived.run(frame)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    wide = derived.run(frame[:, :, :480, :])
    assert wide["cls_8"].shape == (1, 60 * 80, 1) and wide["kps_32"].shape == (1, 15 * 20, 10)


def test_thread_pool_size_is_fixed_once(manifest):
    runtime.ensure_thread_pool(2)
    with pytest.raises(ThreadPoolConflict):
        runtime.ensure_thread_pool(3)


def test_verifier_is_warm_and_rejects_a_blank_reference(manifest, verifier):
    from firmware_app.face.errors import ReferenceUnusable
    with pytest.raises(ReferenceUnusable) as caught:
        verifier.reference(np.zeros((320, 240, 3), np.uint8))
    assert caught.value.reasons


def test_bad_model_bytes_are_a_typed_error():
    with pytest.raises(ModelUnavailable):
        runtime.open_session(b"definitely not onnx", 2)


def test_verifier_from_config_uses_the_face_section(manifest):
    from firmware_app.config.model import FaceSection
    from firmware_app.face.verifier import verifier_from_config
    verifier = verifier_from_config(FaceSection(threshold=0.5), base_dir=MODELS.parent)
    assert verifier.threshold == 0.5
    with pytest.raises(ModelUnavailable):
        verifier_from_config(FaceSection(models_dir="no-such-dir"), base_dir=MODELS.parent)


def test_fetch_derives_the_runtime_file_once(manifest, tmp_path, capsys):
    import importlib.util
    import sys
    sys.path.insert(0, str(MODELS))
    try:
        spec = importlib.util.spec_from_file_location("fetch_under_test", MODELS / "fetch.py")
        fetch = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fetch)
    finally:
        sys.path.remove(str(MODELS))
    recognizer = manifest.models["recognizer"]
    shutil.copy(MODELS / recognizer["file"], tmp_path / recognizer["file"])
    fetch.HERE = tmp_path
    document = {"models": {"recognizer": recognizer}}
    fetch.derive_runtime_files(document)
    assert "derived" in capsys.readouterr().out
    derived = tmp_path / recognizer["runtime"]["file"]
    assert fetch.sha256_of(derived) == recognizer["runtime"]["sha256"]
    fetch.derive_runtime_files(document)
    assert capsys.readouterr().out == ""       # idempotent: a verified file is kept


def test_app_refuses_a_configured_threshold_below_the_calibrated_one(manifest):
    from firmware_app.config.model import FaceSection
    from firmware_app.face.errors import ThresholdBelowCalibrated
    from firmware_app.face.verifier import verifier_from_config
    calibrated = manifest.threshold()[0]
    with pytest.raises(ThresholdBelowCalibrated, match="below the calibrated"):
        verifier_from_config(FaceSection(models_dir=MODELS, threshold=calibrated - 0.05))
    assert verifier_from_config(FaceSection(models_dir=MODELS, threshold=calibrated + 0.05)).threshold > calibrated
