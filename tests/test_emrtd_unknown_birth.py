"""A birth date with unknown parts ('85<<<<', 9303-3) opens the chip: the BAC/PACE key takes the
printed characters (9303-11 9.7.2), checked against a seed computed by hand from the printed text;
the lane still refers with birth_date_unknown (the age cannot be established)."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import MrzKey, mrz_key_from_lines
from firmware_app.emrtd.reader import read_document
from firmware_app.lane.stages import PortraitVault
from firmware_app.mrz import IssueCode, parse
from firmware_app.policy import ChipStatus, Evidence, InMemoryAlertLists, PolicyContext, ReasonCode, decide
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.lane_helpers import good_face
from tests.mrz_helpers import specimen
from tests.passport_helpers import NOW
from tests.test_emrtd_no_expiry import PrintedSeed, _document, _printed_information
from tests.test_lane_stages import chip_stage


@pytest.mark.parametrize("birth", ["74<<<<", "7408<<", "<<<<<<"])
def test_a_chip_personalised_with_an_unknown_birth_date_opens(birth):
    lines = specimen("TD3", birth_date=birth)
    assert _printed_information(lines)[10:16].decode() == birth
    document = _document(lines)
    config = replace(chip_config(document), mrz=PrintedSeed(_printed_information(lines)))
    chip = InProcessTransceiver(VirtualIcaoChip(config, counter_rng("chip")))
    read = read_document(chip, mrz_key_from_lines(list(lines)), counter_rng("terminal"), time.monotonic)
    assert read.files[LdsFile.DG1] == document.files["DG1"]


def test_the_lane_reads_the_chip_and_refers_with_birth_date_unknown():
    lines = specimen("TD3", birth_date="74<<<<")
    printed = parse(lines, today=NOW.date())
    assert printed.valid and printed.has_issue(IssueCode.BIRTH_DATE_INCOMPLETE), printed.errors
    evidence = chip_stage(_document(lines), PortraitVault())("t-unknown-birth", printed, threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.passive.passed, evidence
    decision = decide(Evidence(printed, evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    assert decision.reasons == (ReasonCode.BIRTH_DATE_UNKNOWN,) and not decision.passed, decision.findings


@pytest.mark.parametrize("birth", ["74<<1", "7<<<<<", "74<A<<", "74O812"])
def test_a_birth_date_neither_digits_nor_filler_pairs_is_refused(birth):
    with pytest.raises(AuthenticationError):
        MrzKey("L898902C3", birth, "320415").information()
