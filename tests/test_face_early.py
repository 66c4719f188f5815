"""The face taken while the chip is read (lane/face_early.py): the face stage goes on from the early
choice instead of starting over, drops it when stale or ended, and the runner starts it with the
chip read under the transaction's own cancel event. Real models, scripted frames."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from firmware_app.face.capture import CaptureLoop, CaptureOutcome, CapturePlan, Selection
from firmware_app.face.images import decode_image, load_image
from firmware_app.face.portrait import chip_portrait
from firmware_app.face.quality import LIVE_LIMITS
from firmware_app.lane import events as ev
from firmware_app.lane.face_early import EARLY_MAX_AGE_S
from firmware_app.lane.stages import FaceCaptureStage, PortraitVault
from tests.fakes import ManualClock, ScriptedCamera
from tests.lane_helpers import mrz
from tests.lane_rig import Rig
from tests.polling import wait_until

BLANK = np.full((480, 640, 3), 90, np.uint8)


@pytest.fixture(scope="module")
def photos(shared_data, verifier):
    root = shared_data / "faces"
    reference = load_image(root / "person01" / "img1.jpg")
    portrait = decode_image(chip_portrait(reference, verifier.analyse(reference, LIVE_LIMITS).face))
    return {"portrait": portrait, "same": load_image(root / "person01" / "img5.jpg")}


def stage_with(verifier, photos, images, clock=None):
    clock = clock or ManualClock(100.0)
    vault = PortraitVault()
    vault.put("t1", photos["portrait"])
    camera = ScriptedCamera(images, clock, frame_s=0.03)
    return FaceCaptureStage(verifier, camera, clock, vault, "m", CapturePlan(budget_s=5)), camera, clock


def test_the_face_stage_goes_on_from_the_early_choice_without_new_frames(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [BLANK, photos["same"]])
    stage.early("t1", threading.Event())            # while the chip is read: 1 blank + 3 usable frames
    assert camera.reads == 4
    evidence = stage("t1", 1, lambda key: None, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH
    assert camera.reads == 4, "the face stage captured again instead of taking the early choice over"


def test_a_stale_early_choice_is_dropped_and_the_face_captured_afresh(verifier, photos):
    stage, camera, clock = stage_with(verifier, photos, [photos["same"]])
    stage.early("t1", threading.Event())
    clock.advance(EARLY_MAX_AGE_S + 0.1)            # a slow chip read
    evidence = stage("t1", 1, lambda key: None, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH and camera.reads == 6


def test_a_cancelled_early_capture_takes_no_frame_and_the_stage_captures(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [photos["same"]])
    cancelled = threading.Event()
    cancelled.set()
    stage.early("t1", cancelled)
    assert camera.reads == 0
    assert stage("t1", 1, lambda key: None, threading.Event()).outcome is CaptureOutcome.MATCH


def test_an_early_capture_after_the_face_stage_does_nothing(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [photos["same"]])
    stage("t1", 1, lambda key: None, threading.Event())
    reads = camera.reads
    stage.early("t1", threading.Event())            # its thread was late: the stage already captured
    assert camera.reads == reads


def test_early_frames_are_discarded_with_the_transaction(verifier, photos):
    stage, _, _ = stage_with(verifier, photos, [photos["same"]])
    stage.early("t1", threading.Event())
    early = stage.vault.take_early("t1")
    assert early is not None and early.selection.best is not None
    stage.vault.discard("t1")
    assert early.handover.is_set()                  # a capture still running would stop at its next frame
    assert stage.vault.open_early("t1", 0.0) is not None, "the transaction's early slot outlived it"


def test_a_partial_choice_is_completed_by_the_capture_loop(verifier, photos):
    clock = ManualClock(100.0)
    camera = ScriptedCamera([photos["same"]], clock, frame_s=0.03)
    loop = CaptureLoop(verifier, camera, clock, CapturePlan(frames_per_attempt=3))
    selection = Selection()
    loop.select(selection, clock() + 5, stop=lambda: selection.usable >= 1)     # handed over after one
    result = loop.run(verifier.reference(photos["portrait"]), selection)
    assert result.outcome is CaptureOutcome.MATCH and result.frames == 3 and camera.reads == 3


def test_the_runner_starts_the_early_capture_with_the_chip_read_under_the_transactions_cancel():
    chip_answer = threading.Event()
    reads: list[tuple[str, threading.Event]] = []
    seen: list[tuple[str, threading.Event, bool]] = []

    def slow_chip(txn_id, lines, cancelled):
        reads.append((txn_id, cancelled))
        chip_answer.wait(5)
        raise TimeoutError("the traveller left")

    rig = Rig(chip=slow_chip)
    rig.runner.ports.face_early = lambda txn_id, cancelled: seen.append((txn_id, cancelled, chip_answer.is_set()))
    rig.runner.start()
    try:
        rig.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: seen and reads)
        assert seen[0] == (reads[0][0], reads[0][1], False)    # the chip's transaction and cancel, during the read
        rig.runner.submit(ev.DocumentRemoved())     # abandoned (or the chip timer ran out): told to stop
        assert wait_until(seen[0][1].is_set)
    finally:
        chip_answer.set()
        rig.close()
