"""Presentation attack detection: the torch-free conversion, the crop as trained, the upstream
samples, the CLI, and setup without the upstream files (PAD unavailable, everything else fine)."""
from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.cli import main
from firmware_app.face.errors import ModelUnavailable
from firmware_app.face.images import load_image
from firmware_app.face.pad import MiniFasPad, PadResult, PadSkipped, PadStatus, combine, crop_box, not_performed
from firmware_app.face.verifier import PadSettings, build_verifier

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
sys.path.insert(0, str(MODELS))
import torch_legacy  # noqa: E402  (models/ is a folder of setup scripts, not a package)

UPSTREAM = ROOT.parent / "shared" / "data" / "upstream" / "minifasnet"
MANIFEST = json.loads((MODELS / "manifest.json").read_text())
SAMPLES = {"sample_image_F1.jpg": PadStatus.ATTACK_SUSPECTED, "sample_image_F2.jpg": PadStatus.ATTACK_SUSPECTED,
           "sample_image_T1.jpg": PadStatus.LIVE}


def _need_upstream() -> None:
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream MiniFASNet files not at {UPSTREAM} (../shared/data absent)")


@pytest.fixture(scope="module")
def verifier(verifier):
    if not verifier.pad.available:
        pytest.skip("PAD models unavailable here (setup had no upstream MiniFASNet files)")
    return verifier


# --- the restricted unpickler -----------------------------------------------------------------

class _Evil:
    def __reduce__(self):
        return (subprocess.call, (["true"],))


def _legacy(payload) -> bytes:
    parts = [torch_legacy.LEGACY_MAGIC, 1001, {}, payload, []]
    return b"".join(pickle.dumps(part, protocol=2) for part in parts)


def test_unpickler_refuses_any_global_but_the_state_dict_ones():
    with pytest.raises(torch_legacy.UnsafePickle, match=r"refused global \w+\.call"):
        torch_legacy.load_state_dict(_legacy(_Evil()))
    with pytest.raises(torch_legacy.UnsafePickle, match="not a legacy"):
        torch_legacy.load_state_dict(pickle.dumps({"a": 1}))
    with pytest.raises(torch_legacy.UnsafePickle):
        torch_legacy.load_state_dict(_legacy({"w": 1.0}))     # an entry that is no stored tensor


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=4000))
def test_unpickler_fuzz_only_raises_unsafe_pickle(noise, cut):
    blob = _legacy({}) if not UPSTREAM.is_dir() else (UPSTREAM / "2.7_80x80_MiniFASNetV2.pth").read_bytes()[:20000]
    mutated = blob[:cut] + noise + blob[cut + len(noise):]
    try:
        torch_legacy.load_state_dict(mutated)
    except torch_legacy.UnsafePickle:
        pass


def test_conversion_gives_the_pinned_files():
    _need_upstream()
    pytest.importorskip("onnx", reason="the onnx package (setup dependency) is not installed")
    from upstream import convert
    for role in MANIFEST["pad"]["models"]:
        entry = MANIFEST["models"][role]
        source = (UPSTREAM / entry["upstream"]["file"]).read_bytes()
        assert hashlib.sha256(source).hexdigest() == entry["upstream"]["sha256"]
        assert hashlib.sha256(convert(entry, source)).hexdigest() == entry["sha256"]
        assert entry["licence"] == "Apache-2.0" and "certif" in MANIFEST["pad"]["notes"]


# --- preprocessing and fusion -----------------------------------------------------------------

def test_crop_is_scaled_about_the_centre_and_shifted_back_inside():
    assert crop_box(640, 480, (270, 190, 100, 100), 2.7) == (185, 105, 455, 375)
    left, top, right, bottom = crop_box(640, 480, (0, 0, 100, 100), 2.7)     # corner face: shifted, same size
    assert (left, top) == (0, 0) and (right, bottom) == (270, 270)
    left, top, right, bottom = crop_box(640, 480, (200, 100, 300, 300), 4.0)  # too big: scale capped
    assert top == 0 and bottom == 479 and right - left == pytest.approx(479, abs=1)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 2000), st.integers(2, 2000), st.floats(-500, 2500), st.floats(-500, 2500),
       st.floats(0, 3000), st.floats(0, 3000), st.sampled_from([2.7, 4.0]))
def test_crop_always_lies_inside_the_frame(width, height, x, y, w, h, scale):
    left, top, right, bottom = crop_box(width, height, (x, y, w, h), scale)
    assert 0 <= left <= right <= width - 1 and 0 <= top <= bottom <= height - 1


def test_combine_any_suspicion_wins_and_live_needs_an_assessment():
    live, attack = PadResult(PadStatus.LIVE, 0.9, 0.5), PadResult(PadStatus.ATTACK_SUSPECTED, 0.2, 0.5)
    assert combine([live, attack, live]) is attack
    assert combine([live]) is live
    assert combine([]).skipped is PadSkipped.NO_FRAME
    assert combine([not_performed(PadSkipped.NO_FACE)]).status is PadStatus.NOT_PERFORMED


# --- the converted models on the upstream samples ------------------------------------------------

@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_upstream_samples_give_the_expected_class(verifier, name):
    _need_upstream()
    result, inspection = verifier.assess_presentation(load_image(UPSTREAM / name))
    assert inspection.face is not None and result.status is SAMPLES[name], result
    assert len(result.scores) == 2 and 0 <= result.score <= 1


def test_no_face_or_no_frame_is_not_performed_never_live(verifier):
    assert isinstance(verifier.pad, MiniFasPad)
    result, _ = verifier.assess_presentation(np.full((480, 640, 3), 90, np.uint8))
    assert result.status is PadStatus.NOT_PERFORMED and result.skipped is PadSkipped.NO_FACE
    assert verifier.pad.assess(None, None).skipped is PadSkipped.NO_FRAME


def test_cli_face_pad_and_verify_pad(verifier, capsys):
    _need_upstream()
    assert main(["face", "pad", str(UPSTREAM / "sample_image_T1.jpg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "live"
    assert main(["face", "pad", str(UPSTREAM / "sample_image_F2.jpg")]) == 1
    assert "attack_suspected" in capsys.readouterr().out
    attack = str(UPSTREAM / "sample_image_F1.jpg")
    assert main(["face", "verify", attack, attack, "--pad", "--json"]) == 1     # same face, but a print
    report = json.loads(capsys.readouterr().out)
    assert report["match"] is True and report["pad"] == "attack_suspected"
    assert main(["face", "verify", attack, attack, "--json"]) == 0             # without --pad: not judged
    assert json.loads(capsys.readouterr().out)["pad"] == "not_performed"


# --- setup without the upstream files ------------------------------------------------------------

def _models_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "models"
    copy.mkdir()
    for script in ("fetch.py", "onnx_rewrite.py", "upstream.py", "minifasnet.py", "torch_legacy.py", "manifest.json"):
        shutil.copy(MODELS / script, copy / script)
    for role in ("detector", "recognizer"):
        entry = MANIFEST["models"][role]
        for name in (entry["file"], entry["runtime"]["file"]):
            if not (MODELS / name).exists():
                pytest.skip("face models not fetched (run `make setup`)")
            (copy / name).symlink_to(MODELS / name)
    return copy


def test_setup_without_upstream_files_succeeds_and_pad_reports_unavailable(tmp_path, capsys):
    copy = _models_copy(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([sys.executable, str(copy / "fetch.py"), "--from", str(empty),
                          "--upstream-base", "http://127.0.0.1:9/"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "PAD) is UNAVAILABLE" in run.stderr and "pad_v2, pad_v1se" in run.stderr
    assert not list(copy.glob("minifasnet_*.onnx"))
    optional = build_verifier(copy, threads=2)                          # the rest works
    assert not optional.pad.available
    assert optional.pad.assess(None, None).skipped is PadSkipped.MODEL_UNAVAILABLE
    with pytest.raises(ModelUnavailable, match="PAD is required"):
        build_verifier(copy, threads=2, pad=PadSettings(required=True))
    assert main(["face", "check", "--models", str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pad"] == "UNAVAILABLE (model_unavailable)"
    assert main(["face", "pad", str(ROOT / "README.md"), "--models", str(copy)]) == 2


# --- bench face_pad pieces --------------------------------------------------------------------

def test_bench_rates_count_attacks_taken_as_live_and_bona_fide_refused():
    from bench.face_pad_bench import det_curves, rates
    rows = ([{"kind": "bona_fide", "score": s} for s in (0.9, 0.8, 0.3, None)]
            + [{"kind": "screen", "score": s} for s in (0.1, 0.6, 0.2, 0.05)])
    report = rates(rows, 0.5)
    assert report["bona_fide"] == {"n": 3, "no_face": 1, "error": round(1 / 3, 4)}
    assert report["screen"] == {"n": 4, "no_face": 0, "error": 0.25}
    apcer, bpcer = det_curves(rows)["screen"]
    assert apcer[0] == 1.0 and apcer[-1] == 0.0 and bpcer[0] == 0.0 and bpcer[-1] == 1.0


def test_synthesised_attacks_are_camera_frames():
    from simulator import presentation_attacks as pad_attacks
    rng = np.random.default_rng(3)
    photo = (np.random.default_rng(4).random((300, 200, 3)) * 255).astype(np.uint8)
    for synthesise in pad_attacks.SYNTHESISERS.values():
        frame = synthesise(photo, rng, (50.0, 60.0, 100.0, 120.0))
        assert frame.shape == (pad_attacks.FRAME_H, pad_attacks.FRAME_W, 3) and frame.dtype == np.uint8
