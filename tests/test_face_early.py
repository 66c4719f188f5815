"""The face taken while the chip is read (lane/face_early.py): the face stage goes on from the early
choice instead of starting over, drops it when stale or ended, and the runner starts it with the
chip read under the transaction's own cancel event. Real models, scripted frames."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from drivers.camera import FrameSource, SupervisedSource
from firmware_app.face.capture import CaptureLoop, CaptureOutcome, CapturePlan, Selection
from firmware_app.face.images import decode_image, load_image
from firmware_app.face.portrait import chip_portrait
from firmware_app.face.quality import LIVE_LIMITS
from firmware_app.lane import events as ev
from firmware_app.lane.face_early import EARLY_MAX_AGE_S
from firmware_app.lane.portrait_early import PortraitCandidate
from firmware_app.lane.stages import FaceCaptureStage, PortraitVault
from tests.fakes import ManualClock, ScriptedCamera, TickingClock
from tests.lane_helpers import mrz
from tests.lane_rig import Rig
from tests.polling import wait_until

BLANK = np.full((480, 640, 3), 90, np.uint8)


@pytest.fixture(scope="module")
def photos(shared_data, verifier):
    root = shared_data / "faces"
    reference = load_image(root / "person01" / "img1.jpg")
    portrait = decode_image(chip_portrait(reference, verifier.analyse(reference, LIVE_LIMITS).face))
    return {"portrait": portrait, "same": load_image(root / "person01" / "img5.jpg"),
            "other": load_image(root / "person02" / "img12.jpg")}


def stage_with(verifier, photos, images, clock=None):
    clock = clock or ManualClock(100.0)
    vault = PortraitVault()
    vault.put("t1", photos["portrait"])
    camera = ScriptedCamera(images, clock, frame_s=0.03)
    return FaceCaptureStage(verifier, camera, clock, vault, "m", CapturePlan(budget_s=5)), camera, clock


def begin_early(stage, camera, reads: int, cancelled: threading.Event | None = None) -> None:
    """As the runner does: on its own thread (it then waits for the portrait); here until its frames are read."""
    threading.Thread(target=stage.early, args=("t1", cancelled or threading.Event()), daemon=True).start()
    assert wait_until(lambda: camera.reads >= reads)


def test_the_face_stage_goes_on_from_the_early_choice_without_new_frames(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [BLANK, photos["same"]])
    begin_early(stage, camera, 4)                   # while the chip is read: 1 blank + 3 usable frames
    evidence = stage("t1", 1, lambda key: None, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH
    assert camera.reads == 4, "the face stage captured again instead of taking the early choice over"


def test_a_stale_early_choice_is_dropped_and_the_face_captured_afresh(verifier, photos):
    stage, camera, clock = stage_with(verifier, photos, [photos["same"]])
    begin_early(stage, camera, 3)
    clock.advance(EARLY_MAX_AGE_S + 0.1)            # a slow chip read
    evidence = stage("t1", 1, lambda key: None, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH and camera.reads == 6


def test_a_cancelled_early_capture_takes_no_frame_and_the_stage_captures(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [photos["same"]])
    cancelled = threading.Event()
    cancelled.set()
    stage.early("t1", cancelled)                    # returns at once: no frame, no wait for the portrait
    assert camera.reads == 0
    assert stage("t1", 1, lambda key: None, threading.Event()).outcome is CaptureOutcome.MATCH


def test_an_early_capture_after_the_face_stage_does_nothing(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [photos["same"]])
    stage("t1", 1, lambda key: None, threading.Event())
    reads = camera.reads
    stage.early("t1", threading.Event())            # its thread was late: the stage already captured
    assert camera.reads == reads


def test_early_frames_are_discarded_with_the_transaction(verifier, photos):
    stage, camera, _ = stage_with(verifier, photos, [photos["same"]])
    begin_early(stage, camera, 3)
    early = stage.vault.take_early("t1")
    assert early is not None and early.done.wait(5) and early.selection.best is not None
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


class Counting:
    """Delegates to the real object and counts the calls of one method."""

    def __init__(self, real, method: str):
        self.real, self.method, self.calls = real, method, 0

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if name != self.method:
            return attribute

        def counted(*args, **kwargs):
            self.calls += 1
            return attribute(*args, **kwargs)
        return counted


def read_chip(store: bool):
    from firmware_app.face.untrusted import shared_decoder
    from firmware_app.lane.stages import ChipReadStage
    from firmware_app.mrz import parse
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from simulator.vchip.transport import InProcessTransceiver
    from tests.chip_fixtures import counter_rng
    from tests.passport_helpers import NOW, TD3, passport, pki, store_for
    document, vault, decoder = passport(), PortraitVault(), Counting(shared_decoder(), "decode")
    stage = ChipReadStage(lambda: InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip"))),
                          store_for(pki()) if store else None, counter_rng("terminal"), lambda: 0.0, lambda: NOW,
                          vault, decoder=decoder)
    stage("t1", parse(TD3, today=NOW.date()), threading.Event())
    return vault, decoder


def test_the_portrait_decoded_during_the_read_is_the_one_kept():
    vault, decoder = read_chip(store=True)
    candidate = vault.candidate("t1")
    assert candidate is not None and candidate.image is vault.get("t1")
    assert decoder.calls == 1, "the portrait was decoded again after the read"


def test_a_portrait_the_sod_does_not_vouch_for_is_not_decoded_during_the_read():
    vault, decoder = read_chip(store=False)         # no trust store: the SOD's signer is not trusted
    candidate = vault.candidate("t1")
    assert candidate is not None and candidate.image is None and decoder.calls == 0


@pytest.mark.parametrize("same_portrait", [True, False])
def test_the_early_capture_makes_the_reference_from_the_portrait_decoded_during_the_read(
        verifier, photos, same_portrait):
    counting = Counting(verifier, "reference")
    stage, camera, _ = stage_with(counting, photos, [photos["same"]])
    candidate = PortraitCandidate(b"dg2")
    candidate.attempted, candidate.image = True, photos["portrait"]
    candidate.done.set()
    stage.vault.put_candidate("t1", candidate)
    stage.early("t1", threading.Event())
    assert counting.calls == 1 and camera.reads == 3
    if not same_portrait:                           # the chip stage kept another decoding: not this reference
        stage.vault.put("t1", photos["portrait"].copy())
    evidence = stage("t1", 1, lambda key: None, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH and camera.reads == 3
    assert counting.calls == (1 if same_portrait else 2)


class GateCamera(FrameSource):
    """Shows whoever stands at the gate now; its first grab hangs in the driver and, once released,
    answers late with the face it began to capture (the previous traveller's)."""

    def __init__(self, face: np.ndarray):
        super().__init__("gate://")
        self.face, self.grabs = face, 0
        self.unhang, self.answered_late = threading.Event(), threading.Event()

    def _grab(self) -> np.ndarray:
        self.grabs += 1
        captured = self.face
        if self.grabs == 1:
            self.unhang.wait(5)
            self.answered_late.set()
        return captured


def capture_stage(verifier, camera) -> FaceCaptureStage:
    supervised = SupervisedSource(camera, timeout_s=1.0, clock=TickingClock(0.05))
    return FaceCaptureStage(verifier, supervised, TickingClock(0.01), PortraitVault(keep_live=True), "m",
                            CapturePlan(budget_s=5, attempts=1, frames_per_attempt=1))


@pytest.mark.parametrize("early", [False, True], ids=["face-stage", "early-capture"])
def test_a_late_frame_of_transaction_n_is_never_compared_in_transaction_n_plus_1(verifier, photos, early):
    camera = GateCamera(photos["same"])             # the passport's genuine holder at the gate
    stage = capture_stage(verifier, camera)
    stage.vault.put("t1", photos["portrait"])
    assert stage("t1", 1, lambda key: None, threading.Event()).outcome is CaptureOutcome.CAMERA_FAULT
    stage.vault.discard("t1")
    camera.face = photos["other"]                   # an impostor presents the same passport next
    camera.unhang.set()                             # the stuck grab now answers with the holder's face
    assert camera.answered_late.wait(5)
    stage.vault.put("t2", photos["portrait"])
    if early:                                       # chosen while the chip is read (no early portrait)
        candidate = PortraitCandidate(b"dg2")
        candidate.done.set()
        stage.vault.put_candidate("t2", candidate)
        stage.early("t2", threading.Event())
    evidence = stage("t2", 1, lambda key: None, threading.Event())
    assert stage.vault.peek("t2", live=True) is photos["other"], "transaction 2 compared transaction 1's frame"
    assert evidence.outcome is CaptureOutcome.NO_MATCH and camera.grabs == 2
    stage.camera.close()
