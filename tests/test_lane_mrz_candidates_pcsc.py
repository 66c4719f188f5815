"""Issue 9, end to end through pyscard -> pcscd -> vpcd -> the virtual ICAO chip: the lane's chip
stage tries the BAC keys of an invalid MRZ's repair candidates on a real PC/SC stack (a refused
key and then the right one, each on a fresh connection) and adopts only the reading the chip
confirms."""
from __future__ import annotations

import threading
import time

import pytest

from drivers.smartcard import open_transceiver
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.lane.stages import ChipReadStage, PortraitVault
from firmware_app.mrz import parse
from firmware_app.policy import ChipStatus
from simulator.passport_factory import PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from tests.chip_fixtures import counter_rng
from tests.passport_helpers import NOW, TD3, passport, pki, portrait, store_for
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)


def _misread(lines, line, column, char):
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1:]
    return tuple(changed)


def _stage_on_card(document, port: int):
    card = insert_card(VirtualIcaoChip(chip_config(document), counter_rng("chip")), port)
    opened = []

    def opener():
        opened.append(1)
        return open_transceiver("pcsc://Virtual PCD 00 00")
    stage = ChipReadStage(opener, store_for(pki()), counter_rng("terminal"), time.monotonic, lambda: NOW,
                          PortraitVault())
    return stage, card, opened


def test_confirmed_candidate_is_adopted_through_pcscd(pcscd_vpcd):
    mrz = parse(_misread(TD3, 1, 1, "B"), today=NOW.date())      # 8 read as B: two keys fit
    assert not mrz.valid and len({c.mrz_information for c in mrz.candidates}) >= 2
    stage, card, opened = _stage_on_card(passport(), pcscd_vpcd[1])
    try:
        evidence = stage("p1", mrz, threading.Event())
    finally:
        remove_card(card)
    assert evidence.status is ChipStatus.READ and evidence.passive.passed
    assert evidence.confirmed_mrz is not None and evidence.confirmed_mrz.lines == TD3
    assert len(opened) >= 2         # the recomputed-digit reading's key was refused first


def test_no_candidate_opens_another_document_through_pcscd(pcscd_vpcd):
    other = build_passport(PassportSpec(_misread(TD3, 1, 0, "K"), portrait()), pki(), NOW)
    mrz = parse(_misread(TD3, 1, 5, "O"), today=NOW.date())
    stage, card, opened = _stage_on_card(other, pcscd_vpcd[1])
    try:
        with pytest.raises(AuthenticationError):
            stage("p2", mrz, threading.Event())
    finally:
        remove_card(card)
    assert len(opened) == len({c.mrz_information for c in mrz.candidates})
