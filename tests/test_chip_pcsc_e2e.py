"""End to end: pyscard -> pcscd -> vpcd -> virtual ICAO chip, read with BAC and with PACE."""
from __future__ import annotations

import time

import pytest

from drivers.smartcard import open_transceiver
from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.errors import CardRemovedDuringRead
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import CanKey
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from tests.chip_fixtures import CAN, PACE_BRAINPOOL_AES128, counter_rng, make_chip, mrz_key
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)


def _insert(chip, port: int):
    card = insert_card(chip, port, chip.config.extended_length)
    return card, open_transceiver("pcsc://Virtual PCD 00 00")


def _read(transceiver, key):
    reader = DocumentReader(Session(transceiver), key, counter_rng("terminal"), time.monotonic,
                            extended_hint=getattr(transceiver, "extended_length", None))
    return reader.read()


@pytest.mark.parametrize("pace, extended, key", [
    ([], False, "mrz"), ([PACE_BRAINPOOL_AES128], True, "mrz"), ([PACE_BRAINPOOL_AES128], False, "can")])
def test_read_through_real_pcscd(pcscd_vpcd, pace, extended, key):
    chip = make_chip(pace, extended=extended)
    card, transceiver = _insert(chip, pcscd_vpcd[1])
    try:
        result = _read(transceiver, mrz_key() if key == "mrz" else CanKey(CAN))
    finally:
        transceiver.close()
        remove_card(card)
    assert result.access.protocol is (AccessProtocol.PACE if pace else AccessProtocol.BAC)
    assert result.extended_length is extended
    assert result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]
    assert result.files[LdsFile.SOD] == chip.config.files[LdsFile.SOD.fid]


def test_card_removed_mid_read_through_pcscd(pcscd_vpcd):
    chip = make_chip()
    card, transceiver = _insert(chip, pcscd_vpcd[1])
    card.remove_after_apdus = 15
    try:
        with pytest.raises(CardRemovedDuringRead):
            _read(transceiver, mrz_key())
    finally:
        transceiver.close()
        remove_card(card)


def test_slow_chip_and_bac_by_request_through_pcscd(pcscd_vpcd):
    from firmware_app.emrtd.access import AccessReason
    from firmware_app.emrtd.reader import ReadOptions
    chip = make_chip([PACE_BRAINPOOL_AES128], dg2_size=2000)
    card = insert_card(chip, pcscd_vpcd[1])
    delays = []
    card.delay_s = 0.01  # every APDU answered 10 ms late
    card._sleep = lambda seconds: (delays.append(seconds), time.sleep(seconds))
    transceiver = open_transceiver("pcsc://Virtual PCD 00 00")
    try:
        reader = DocumentReader(Session(transceiver), mrz_key(), counter_rng("terminal"), time.monotonic,
                                ReadOptions(prefer_pace=False))
        result = reader.read()
    finally:
        transceiver.close()
        remove_card(card)
    assert result.access.protocol is AccessProtocol.BAC and result.access.reason is AccessReason.REQUESTED
    assert result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]
    assert len(delays) == result.log.count and set(delays) == {0.01}


def test_open_waits_for_a_card_until_timeout(pcscd_vpcd):
    from drivers.errors import NoCardPresent
    with pytest.raises(NoCardPresent, match=r"after 0.3 s"):
        open_transceiver("pcsc://Virtual PCD 00 00", timeout_s=0.3)
