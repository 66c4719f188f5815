"""Quality gate on synthetic faces, and the error-rate arithmetic of the evaluation bench."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:  # bench/ is not an installed package; `python -m pytest` adds it, plain `pytest` not
    sys.path.insert(0, ROOT)

from bench.face_metrics import equal_error_rate, fmr, fnmr, summary, threshold_at_fmr  # noqa: E402
from firmware_app.face.align import TEMPLATE, align_face  # noqa: E402
from firmware_app.face.detector import Face  # noqa: E402
from firmware_app.face.quality import LIVE_LIMITS, QualityIssue, assess, count_people, outside_fraction, pose_of  # noqa: E402


def face_at(x: float, y: float, scale: float = 1.0, angle_deg: float = 0.0, nose_shift: float = 0.0) -> Face:
    """A face whose landmarks are the ArcFace template, scaled/rotated about its centre and moved."""
    points = TEMPLATE.astype(np.float64) - [56, 56]
    points[2, 0] += nose_shift
    angle = math.radians(angle_deg)
    rotate = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    landmarks = (points @ rotate.T) * scale + [x, y]
    return Face((x - 56 * scale, y - 56 * scale, 112 * scale, 112 * scale), landmarks.astype(np.float32), 0.95)


def textured(height=480, width=640, level=128):
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(level, 30, (height, width, 3)), 0, 255).astype(np.uint8)


def test_frontal_face_pose_is_centred():
    pose = pose_of(face_at(300, 200, 2.0))
    assert abs(pose["roll"]) < 1 and abs(pose["yaw"]) < 0.05 and 0.4 < pose["pitch"] < 0.6


def test_roll_and_yaw_are_measured():
    assert pose_of(face_at(300, 200, 2.0, angle_deg=30))["roll"] == pytest.approx(30, abs=1)
    assert pose_of(face_at(300, 200, 2.0, angle_deg=30, nose_shift=15))["yaw"] > 0.35


def test_good_face_passes_and_issues_are_named():
    image = textured()
    good = face_at(320, 240, 1.5)
    assert assess([good], image.shape, align_face(image, good), LIVE_LIMITS).ok
    small = face_at(320, 240, 0.5)
    assert QualityIssue.FACE_TOO_SMALL in assess([small], image.shape, align_face(image, small), LIVE_LIMITS).issues
    turned = face_at(320, 240, 1.5, nose_shift=20)
    assert QualityIssue.POSE_TURNED in assess([turned], image.shape, align_face(image, turned), LIVE_LIMITS).issues
    tilted = face_at(320, 240, 1.5, angle_deg=35)
    assert QualityIssue.HEAD_TILTED in assess([tilted], image.shape, align_face(image, tilted), LIVE_LIMITS).issues


def test_exposure_and_blur_are_refused():
    face = face_at(320, 240, 1.5)
    dark = textured(level=10)
    assert QualityIssue.TOO_DARK in assess([face], dark.shape, align_face(dark, face), LIVE_LIMITS).issues
    flat = np.full((480, 640, 3), 128, np.uint8)
    assert QualityIssue.BLURRED in assess([face], flat.shape, align_face(flat, face), LIVE_LIMITS).issues


def test_no_face_and_second_person():
    image = textured()
    assert assess([], image.shape, None, LIVE_LIMITS).issues == (QualityIssue.NO_FACE,)
    main, near, far = face_at(200, 240, 1.5), face_at(450, 240, 1.2), face_at(600, 60, 0.3)
    assert count_people([main, far], LIVE_LIMITS) == 1
    assert count_people([main, near, far], LIVE_LIMITS) == 2
    report = assess([main, near], image.shape, align_face(image, main), LIVE_LIMITS)
    assert QualityIssue.MULTIPLE_FACES in report.issues


def test_a_second_person_must_be_confident_plausibly_shaped_and_in_view():
    from dataclasses import replace
    main, near = face_at(200, 240, 1.5), face_at(450, 240, 1.2)
    assert count_people([main, near], LIVE_LIMITS, (640, 480)) == 2
    assert count_people([main, replace(near, score=0.70)], LIVE_LIMITS, (640, 480)) == 1   # background blob
    x, y, w, h = near.box
    assert count_people([main, replace(near, box=(x, y, w * 4, h))], LIVE_LIMITS, (640, 480)) == 1  # eyes 0.08 of width
    cut = face_at(630, 240, 1.2)                                  # half out of the frame: passing by
    assert count_people([main, cut], LIVE_LIMITS, (640, 480)) == 1
    assert count_people([main, cut], LIVE_LIMITS) == 2            # without the frame size: counted


def test_face_partly_outside_the_frame_is_cut_off():
    face = face_at(10, 240, 1.5)
    assert outside_fraction(face, 640, 480) > 0.3
    image = textured()
    assert QualityIssue.FACE_CUT_OFF in assess([face], image.shape, align_face(image, face), LIVE_LIMITS).issues


def test_error_rates_on_known_scores():
    genuine = np.array([0.9, 0.8, 0.7, 0.3])
    impostor = np.array([0.1, 0.2, 0.35, 0.75] + [0.0] * 96)
    assert fmr(impostor, 0.5) == pytest.approx(0.01) and fnmr(genuine, 0.5) == pytest.approx(0.25)
    threshold = threshold_at_fmr(impostor, 0.01)
    assert fmr(impostor, threshold) <= 0.01 and threshold <= 0.351
    strict = threshold_at_fmr(impostor, 0.001)
    assert fmr(impostor, strict) == 0 and strict > 0.75
    eer, _ = equal_error_rate(np.array([0.8, 0.9]), np.array([0.1, 0.2]))
    assert eer == 0
    assert summary(genuine, impostor)["fmr_0.1pct"]["fnmr"] == pytest.approx(0.5)  # 0.7 and 0.3 miss


def test_every_issue_has_an_instruction_and_the_gravest_wins():
    from firmware_app.face.quality import INSTRUCTIONS, QualityReport, instruction_for
    assert set(INSTRUCTIONS) == set(QualityIssue)
    assert instruction_for((QualityIssue.BLURRED, QualityIssue.MULTIPLE_FACES)) == "one_person_only"
    assert instruction_for(()) is None
    assert QualityReport((QualityIssue.FACE_TOO_SMALL,)).as_dict()["instruction"] == "come_closer"
