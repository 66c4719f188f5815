"""The real stage adapters: chip read + passive authentication + DG1 check from the in-process
virtual chip, the portrait handed to the face stage through the vault, and the capture loop
with the real models (skipped without ../shared/data)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_app.face.capture import CaptureOutcome, CapturePlan
from firmware_app.face.images import load_image
from firmware_app.face.quality import LIVE_LIMITS
from firmware_app.lane.errors import PortraitMissing
from firmware_app.lane.stages import ChipReadStage, FaceCaptureStage, PortraitVault
from firmware_app.mrz import parse
from firmware_app.policy import ChipStatus, Evidence, InMemoryAlertLists, Outcome, PolicyContext, ReasonCode, decide
from simulator.passport_factory import Forgery
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.fakes import ScriptedCamera
from tests.lane_helpers import good_face
from tests.passport_helpers import NOW, TD3, passport, pki, store_for

MODELS = Path(__file__).resolve().parents[1] / "models"


def chip_stage(document, vault, store=True):
    def open_transceiver():
        return InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip")))
    return ChipReadStage(open_transceiver, store_for(pki()) if store else None, counter_rng("terminal"),
                         time.monotonic, lambda: NOW, vault)


def printed():
    return parse(TD3, today=NOW.date())


def test_genuine_passport_gives_full_chip_evidence_and_keeps_the_portrait():
    vault = PortraitVault()
    evidence = chip_stage(passport(), vault)("t1", printed(), threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.passive.passed
    assert evidence.dg1_check.value == "MATCH" and evidence.active_auth.passed
    portrait = vault.get("t1")
    assert portrait.ndim == 3 and portrait.shape[2] == 3
    decision = decide(Evidence(printed(), evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    # the ICAO specimen expired in 2012: that is the only finding, every chip check passed
    assert decision.reasons == (ReasonCode.DOCUMENT_EXPIRED,), decision.findings
    vault.discard("t1")
    with pytest.raises(PortraitMissing):
        vault.get("t1")


def test_cloned_chip_is_rejected_as_clone_suspected():
    evidence = chip_stage(passport(forgery=Forgery(clone=True)), PortraitVault())("t2", printed(), threading.Event())
    decision = decide(Evidence(printed(), evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    assert decision.outcome is Outcome.REJECT and ReasonCode.CLONE_SUSPECTED in decision.reasons


def test_without_trust_store_passive_authentication_refers():
    evidence = chip_stage(passport(), PortraitVault(), store=False)("t3", printed(), threading.Event())
    decision = decide(Evidence(printed(), evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    finding = next(f for f in decision.findings if f.code is ReasonCode.PASSIVE_AUTH_FAILED)
    assert finding.outcome is Outcome.REFER and "NO_TRUST_STORE" in finding.detail


def test_face_stage_without_portrait_is_a_typed_error():
    stage = FaceCaptureStage(verifier=None, camera=None, monotonic=time.monotonic, vault=PortraitVault(),
                             model_version="m")
    with pytest.raises(PortraitMissing):
        stage("t9", 1, lambda key: None, threading.Event())


def test_face_stage_matches_the_chip_portrait_and_gives_kiosk_feedback(shared_data, verifier):
    from firmware_app.face.images import decode_image
    from firmware_app.face.portrait import chip_portrait
    root = shared_data / "faces"
    photo = load_image(root / "person01" / "img1.jpg")
    vault = PortraitVault()
    vault.put("t4", decode_image(chip_portrait(photo, verifier.analyse(photo, LIVE_LIMITS).face)))
    blank = np.full((480, 640, 3), 90, np.uint8)
    camera = ScriptedCamera([blank, load_image(root / "person01" / "img5.jpg")])
    stage = FaceCaptureStage(verifier, camera, time.monotonic, vault, "sface-2021dec", CapturePlan(budget_s=30))
    feedback = []
    evidence = stage("t4", 1, feedback.append, threading.Event())
    assert evidence.outcome is CaptureOutcome.MATCH and evidence.score >= evidence.threshold
    assert feedback == ["look_at_camera"] and evidence.model_version == "sface-2021dec"


class NoFaceVerifier:
    def reference(self, portrait):
        return "reference"


def test_face_capture_stops_between_frames_once_cancelled():
    from firmware_app.lane.errors import StageCancelled
    vault = PortraitVault()
    vault.put("t5", np.zeros((8, 8, 3), np.uint8))
    camera = ScriptedCamera([np.zeros((8, 8, 3), np.uint8)])
    stage = FaceCaptureStage(NoFaceVerifier(), camera, time.monotonic, vault, "m")
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(StageCancelled):
        stage("t5", 1, lambda key: None, cancelled)
    assert camera.reads == 0


@pytest.mark.parametrize("hidden", [("DG15",), ("DG14", "DG15")])
def test_clone_hiding_signed_dg14_dg15_is_clone_suspected(hidden):
    # EF.COM is not hashed: a clone that hides the DG15/DG14 its SOD signs must not skip AA/CA
    document = passport(forgery=Forgery(clone=True))
    for name in hidden:
        del document.files[name]
    evidence = chip_stage(document, PortraitVault())("t4", printed(), threading.Event())
    decision = decide(Evidence(printed(), evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    finding = next(f for f in decision.findings if f.code is ReasonCode.CLONE_SUSPECTED)
    assert finding.outcome is Outcome.REJECT and "not presented" in evidence.to_dict()["active_auth"]["detail"]


def test_a_chip_read_that_ends_after_its_transaction_keeps_no_portrait():
    vault, cancelled = PortraitVault(), threading.Event()
    stage = chip_stage(passport(), vault)
    opener = stage.open_transceiver

    def transaction_ends_as_the_read_finishes():
        transport = opener()
        # the runner ended the transaction and emptied the vault meanwhile (a cancel signal seen
        # before the last APDU stops the read itself: tests/test_read_budget.py)
        transport.close = cancelled.set
        return transport
    stage.open_transceiver = transaction_ends_as_the_read_finishes
    stage("t5", printed(), cancelled)
    assert len(vault) == 0
