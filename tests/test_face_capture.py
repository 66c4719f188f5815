"""Capture loop with scripted frames and a fake clock (no real time passes)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_app.face.capture import CaptureLoop, CaptureOutcome, CapturePlan
from firmware_app.face.images import decode_image, load_image
from firmware_app.face.pad import PadSkipped, PadStatus
from firmware_app.face.portrait import chip_portrait
from firmware_app.face.quality import LIVE_LIMITS, QualityIssue
from tests.fakes import ManualClock, ScriptedCamera

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def faces(shared_data, verifier):
    root = shared_data / "faces"
    reference_photo = load_image(root / "person01" / "img1.jpg")
    sample = verifier.analyse(reference_photo, LIVE_LIMITS)
    return {"reference": verifier.reference(decode_image(chip_portrait(reference_photo, sample.face))),
            "same": load_image(root / "person01" / "img5.jpg"),
            "other": load_image(root / "person02" / "img12.jpg"),
            "blank": np.full((480, 640, 3), 90, np.uint8),
            "couple": load_image(root / "_scenes" / "couple.jpg")}


def run(verifier, faces, images, plan=CapturePlan(), **camera_options):
    clock = ManualClock(100.0)
    feedback = []
    loop = CaptureLoop(verifier, ScriptedCamera(images, clock, **camera_options), clock, plan, feedback.append)
    return loop.run(faces["reference"]), feedback


def test_match_after_first_usable_frames(verifier, faces):
    result, feedback = run(verifier, faces, [faces["blank"], faces["same"]])
    assert result.outcome is CaptureOutcome.MATCH and result.attempts == 1
    assert result.best.score >= verifier.threshold
    assert feedback == [(QualityIssue.NO_FACE,)]
    # PAD judged the compared frame when its models are there; otherwise it says why not
    if verifier.pad.available:
        assert result.pad.status in (PadStatus.LIVE, PadStatus.ATTACK_SUSPECTED) and result.pad.score is not None
    else:
        assert result.pad.status is PadStatus.NOT_PERFORMED and result.pad.skipped is PadSkipped.MODEL_UNAVAILABLE


def test_impostor_uses_every_attempt_then_no_match(verifier, faces):
    result, _ = run(verifier, faces, [faces["other"]], CapturePlan(budget_s=60, attempts=3, frames_per_attempt=2))
    assert result.outcome is CaptureOutcome.NO_MATCH
    assert result.attempts == 3 and result.frames == 6
    assert result.best.score < verifier.threshold


def test_budget_ends_without_usable_face(verifier, faces):
    result, feedback = run(verifier, faces, [faces["couple"]], CapturePlan(budget_s=1.0, attempts=3), frame_s=0.25)
    assert result.outcome is CaptureOutcome.NO_USABLE_FACE
    assert result.frames == 4 and result.attempts == 0   # 1.0 s budget / 0.25 s per frame
    assert QualityIssue.MULTIPLE_FACES in result.last_issues and feedback


def test_camera_fault_ends_the_capture(verifier, faces):
    result, _ = run(verifier, faces, [faces["blank"]], fail_after=2)
    assert result.outcome is CaptureOutcome.CAMERA_FAULT and "CameraStalled" in result.detail


def test_each_compared_frame_is_handed_out_with_its_verdict(verifier, faces):
    clock, compared = ManualClock(100.0), []
    loop = CaptureLoop(verifier, ScriptedCamera([faces["other"], faces["same"]], clock), clock,
                       CapturePlan(frames_per_attempt=1), on_compared=lambda image, v: compared.append((image, v)))
    result = loop.run(faces["reference"])
    assert result.outcome is CaptureOutcome.MATCH
    assert [image is faces[name] for (image, _), name in zip(compared, ["other", "same"])] == [True, True]
    assert [v.match for _, v in compared] == [False, True] and compared[1][1] is result.best
