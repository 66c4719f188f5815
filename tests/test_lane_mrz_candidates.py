"""Unconfirmed MRZ repairs as BAC key candidates (issue 9): the chip stage tries their keys on
the in-process virtual chip and adopts a reading only when BAC opens the chip with it and the
chip's DG1 equals it; the lane then goes on with the adopted MRZ, and otherwise decides on an
invalid MRZ (referred), never on a guessed one."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.lane import events as ev
from firmware_app.lane.actions import RequestDecision, StartChipRead, StartFaceCapture
from firmware_app.lane.errors import StageCancelled
from firmware_app.lane.stages import ChipReadStage, PortraitVault
from firmware_app.lane.state import State
from firmware_app.mrz import Confirmation, IssueCode, confirmed_by_chip, parse
from firmware_app.policy import (
    ChipEvidence,
    ChipStatus,
    Evidence,
    InMemoryAlertLists,
    PolicyContext,
    ReasonCode,
    decide,
)
from simulator.passport_factory import PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests import lane_helpers
from tests.chip_fixtures import counter_rng
from tests.lane_helpers import Lane, good_chip, good_face
from tests.mrz_helpers import specimen
from tests.passport_helpers import NOW, TD3, passport, pki, portrait, store_for


class CountingOpener:
    """Opens a fresh virtual chip per attempt and counts the attempts (one per BAC key tried)."""

    def __init__(self, document):
        self.document, self.opened = document, 0

    def __call__(self):
        self.opened += 1
        return InProcessTransceiver(VirtualIcaoChip(chip_config(self.document), counter_rng("chip")))


def stage_for(document):
    opener = CountingOpener(document)
    stage = ChipReadStage(opener, store_for(pki()), counter_rng("terminal"), time.monotonic, lambda: NOW,
                          PortraitVault())
    return stage, opener


def misread(lines, line, column, char):
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1:]
    return tuple(changed)


def printed(lines):
    return parse(lines, today=NOW.date())


def test_candidate_whose_key_opens_the_chip_and_matches_dg1_is_adopted():
    # The 8 at column 2 read as B: two readings fit (B->8, or 2->Z further on), with different
    # BAC keys. Only the true one opens the chip; its DG1 then confirms the whole MRZ.
    mrz = printed(misread(TD3, 1, 1, "B"))
    assert not mrz.valid and len(mrz.candidates) >= 2
    stage, opener = stage_for(passport())
    evidence = stage("t1", mrz, threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.dg1_check.value == "MATCH"
    adopted = evidence.confirmed_mrz
    assert adopted is not None and adopted.valid and adopted.lines == TD3
    assert adopted.has_issue(IssueCode.OCR_REPAIRED_BY_CHIP)
    assert all(r.confirmed_by is Confirmation.CHIP for r in adopted.repairs)
    assert 1 <= opener.opened <= len(mrz.candidates)
    assert evidence.to_dict()["mrz_confirmed_by_chip"] is True
    decision = decide(Evidence(adopted, evidence, good_face()), PolicyContext(today=NOW.date()), InMemoryAlertLists())
    assert ReasonCode.MRZ_INVALID not in decision.reasons and ReasonCode.DG1_MISMATCH not in decision.reasons


def test_no_candidate_key_opens_the_chip_so_nothing_is_adopted():
    # The chip belongs to another document number: every candidate key is refused by BAC.
    other = build_passport(PassportSpec(misread(misread(TD3, 1, 0, "K"), 1, 9, "1"), portrait()), pki(), NOW)
    mrz = printed(misread(TD3, 1, 5, "O"))
    assert mrz.candidates
    stage, opener = stage_for(other)
    with pytest.raises(AuthenticationError):
        stage("t2", mrz, threading.Event())
    assert opener.opened == len({c.mrz_information for c in mrz.candidates})


def test_bac_success_alone_does_not_confirm_fields_outside_the_key():
    # UT0 -> UTO shares the printed key: BAC succeeds, but this chip's DG1 names another
    # nationality, so the candidate is not adopted and the MRZ stays invalid (referred).
    chip_lines = (TD3[0], TD3[1][:10] + "NLD" + TD3[1][13:])
    other = build_passport(PassportSpec(chip_lines, portrait()), pki(), NOW)
    mrz = printed(misread(TD3, 1, 12, "0"))
    assert mrz.candidates and mrz.candidates[0].nationality == "UTO"
    stage, _ = stage_for(other)
    evidence = stage("t3", mrz, threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.confirmed_mrz is None
    assert evidence.dg1_check.value != "MATCH"
    decision = decide(Evidence(None, evidence, good_face()), PolicyContext(today=NOW.date()), InMemoryAlertLists())
    assert ReasonCode.MRZ_INVALID in decision.reasons and not decision.passed


def test_cancelled_stage_stops_between_candidate_keys():
    mrz = printed(misread(TD3, 1, 1, "B"))
    cancelled = threading.Event()
    cancelled.set()
    stage, opener = stage_for(passport())
    with pytest.raises(StageCancelled):
        stage("t4", mrz, cancelled)
    assert opener.opened == 0


def test_valid_mrz_reads_with_its_own_key_only():
    stage, opener = stage_for(passport())
    evidence = stage("t5", printed(TD3), threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.confirmed_mrz is None and opener.opened == 1
    assert isinstance(evidence, ChipEvidence)


# --- the pure lane: candidates go to the chip; only a chip-confirmed reading becomes the MRZ ---

def _lane_with_candidates():
    mrz = parse(misread(specimen("TD3"), 1, 5, "O"), today=lane_helpers.TODAY)
    assert not mrz.valid and mrz.candidates
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz))
    assert lane.state is State.CHIP and lane.of(StartChipRead)[-1].mrz is mrz
    return lane, mrz


def test_lane_adopts_a_chip_confirmed_candidate_and_goes_on_to_the_face():
    lane, mrz = _lane_with_candidates()
    adopted = confirmed_by_chip(mrz.candidates[0])
    lane.send(ev.ChipResult(lane.txn_id, replace(good_chip(), confirmed_mrz=adopted)))
    assert lane.state is State.FACE and lane.data.txn.mrz is adopted and lane.data.txn.mrz.valid


def test_lane_never_takes_an_unconfirmed_candidate_for_the_mrz():
    lane, mrz = _lane_with_candidates()
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))       # read, but no candidate confirmed
    assert not lane.of(StartFaceCapture) and lane.data.txn.mrz is mrz and not lane.data.txn.mrz.valid
    assert lane.state is State.DOCUMENT                      # asks for the document again
    for _ in range(lane.data.settings.document_attempts):
        if lane.state is not State.DOCUMENT:
            break
        lane.send(ev.DocumentPresented(mrz))
        lane.send(ev.StageFailed(lane.txn_id, ev.Stage.CHIP, "AuthenticationError"))   # no key opens it
    assert lane.state is State.DECIDE and not lane.of(StartFaceCapture)
    assert lane.of(RequestDecision)[-1].evidence.mrz is None     # the policy sees no valid MRZ


def test_a_re_read_after_unconfirmed_candidates_goes_on_normally():
    lane, mrz = _lane_with_candidates()
    lane.send(ev.StageFailed(lane.txn_id, ev.Stage.CHIP, "AuthenticationError"))
    assert lane.state is State.DOCUMENT
    lane.send(ev.DocumentPresented(lane_helpers.mrz()))      # read cleanly this time
    assert lane.state is State.CHIP
    lane.send(ev.ChipResult(lane.txn_id, good_chip()))
    assert lane.state is State.FACE and lane.data.txn.mrz.valid


def test_invalid_mrz_without_candidates_still_asks_for_the_document_again():
    mrz = parse(misread(specimen("TD3"), 0, 6, "8"), today=lane_helpers.TODAY)   # a digit in the name
    assert not mrz.valid and not mrz.candidates
    lane = Lane()
    lane.send(ev.DocumentPresented(mrz))
    assert lane.state is State.DOCUMENT


def test_candidates_on_a_pace_chip_fall_back_per_key_and_adopt_the_right_one():
    # a wrong reading's password fails PACE (and the BAC fallback): the next key is tried
    from tests.chip_fixtures import PACE_BRAINPOOL_AES128
    pace_chip = passport()
    opener_calls = []

    def opener():
        opener_calls.append(1)
        config = chip_config(pace_chip, pace=[PACE_BRAINPOOL_AES128])
        return InProcessTransceiver(VirtualIcaoChip(config, counter_rng("chip")))
    stage = ChipReadStage(opener, store_for(pki()), counter_rng("terminal"), time.monotonic, lambda: NOW,
                          PortraitVault())
    mrz = printed(misread(TD3, 1, 1, "B"))
    evidence = stage("t6", mrz, threading.Event())
    assert evidence.access_protocol == "PACE" and evidence.confirmed_mrz.lines == TD3
    assert len(opener_calls) >= 2
