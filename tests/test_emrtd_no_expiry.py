"""A document that states no expiry (`<<<<<<`, check digit `0` or `<` as the issuer printed it)
opens: the BAC/PACE key seed is built from the printed characters (ICAO 9303-11 9.7.2). The chip
side is personalised with a seed computed here from the printed text by hand, so the terminal's
derivation is checked against an independent one; the lane still refers with expiry_not_stated."""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import MrzKey, mrz_key_from_lines
from firmware_app.emrtd.reader import read_document
from firmware_app.lane.stages import PortraitVault
from firmware_app.mrz import parse
from firmware_app.mrz.charset import check_digit as printed_check
from firmware_app.policy import ChipStatus, Evidence, InMemoryAlertLists, PolicyContext, ReasonCode, decide
from simulator.passport_factory import PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import PACE_BRAINPOOL_AES128, counter_rng
from tests.lane_helpers import good_face
from tests.mrz_helpers import specimen
from tests.passport_helpers import NOW, pki, portrait
from tests.test_lane_stages import chip_stage


def _no_expiry(fmt: str, check: str) -> tuple[str, ...]:
    """`specimen` writes check digit 0 after six fillers; `check` is what this issuer prints."""
    lines = list(specimen(fmt, expiry_date="<<<<<<"))
    row, column = (1, 27) if fmt == "TD3" else (1, 14)
    assert lines[row][column - 6:column + 1] == "<<<<<<0"
    lines[row] = lines[row][:column] + check + lines[row][column + 1:]
    return tuple(lines)


def _printed_information(lines: tuple[str, ...]) -> bytes:
    """The MRZ information by hand, from the printed characters (TD3: line 2, 0-9, 13-19, 21-27)."""
    line = lines[1]
    return (line[0:10] + line[13:20] + line[21:28]).encode("ascii")


@dataclass(frozen=True)
class PrintedSeed:
    """The chip's side: personalised with what is printed, not with our MrzKey."""
    information: bytes

    def seed(self) -> bytes:
        return hashlib.sha1(self.information).digest()[:16]

    def pace_password(self) -> bytes:
        return hashlib.sha1(self.information).digest()


def _document(lines: tuple[str, ...], pace=()):
    return build_passport(PassportSpec(lines, portrait(), pace=tuple(pace)), pki(), NOW)


@pytest.mark.parametrize("check", ["0", "<"])
def test_the_key_is_the_printed_characters(check):
    lines = _no_expiry("TD3", check)
    information = _printed_information(lines)
    assert information.endswith(b"<<<<<<" + check.encode())
    assert information[9:10].decode() == printed_check(lines[1][0:9])
    key = mrz_key_from_lines(list(lines))
    assert key.information() == information
    assert key.seed() == PrintedSeed(information).seed()


def test_td1_takes_its_printed_filler_check_digit():
    lines = _no_expiry("TD1", "<")
    assert mrz_key_from_lines(list(lines)).information().endswith(b"<<<<<<<")


@pytest.mark.parametrize(("check", "pace"), [("0", []), ("<", []), ("<", [PACE_BRAINPOOL_AES128])])
def test_a_chip_personalised_with_no_expiry_opens(check, pace):
    lines = _no_expiry("TD3", check)
    document = _document(lines, pace)
    config = replace(chip_config(document), mrz=PrintedSeed(_printed_information(lines)))
    chip = InProcessTransceiver(VirtualIcaoChip(config, counter_rng("chip")))
    read = read_document(chip, mrz_key_from_lines(list(lines)), counter_rng("terminal"), time.monotonic)
    assert read.access.protocol is (AccessProtocol.PACE if pace else AccessProtocol.BAC)
    assert read.files[LdsFile.DG1] == document.files["DG1"]


@pytest.mark.parametrize("check", ["0", "<"])         # both check digits the MRZ layer accepts
def test_the_lane_reads_the_chip_and_still_refers_with_expiry_not_stated(check):
    lines = _no_expiry("TD3", check)
    printed = parse(lines, today=NOW.date())
    assert printed.valid, printed.errors
    evidence = chip_stage(_document(lines), PortraitVault())("t-no-expiry", printed, threading.Event())
    assert evidence.status is ChipStatus.READ and evidence.passive.passed
    assert evidence.dg1_check.value == "MATCH"
    decision = decide(Evidence(printed, evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    assert decision.reasons == (ReasonCode.EXPIRY_NOT_STATED,) and not decision.passed, decision.findings


def test_a_filler_expiry_with_another_check_digit_or_a_partial_one_is_refused():
    with pytest.raises(AuthenticationError):
        MrzKey("L898902C3", "740812", "<<<<<<", "5").information()
    with pytest.raises(AuthenticationError):
        MrzKey("L898902C3", "740812", "32<<<<", "0").information()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789<ABZ", min_size=0, max_size=8), st.one_of(st.none(), st.sampled_from("0<5A")))
def test_any_expiry_field_gives_information_or_an_authentication_error(expiry, check):
    key = MrzKey("L898902C3", "740812", expiry, check)
    try:
        information = key.information()
    except AuthenticationError:
        assert not (len(expiry) == 6 and expiry.isdigit()) and not (expiry == "<<<<<<" and check in (None, "0", "<"))
        return
    assert len(information) == 24 and information[17:23].decode() == expiry
