"""Chip sessions through the real stack (pyscard -> pcscd -> vpcd -> virtual chip): exclusive
sessions that no presence poll or second opener can reset, presence from pcscd's reader state,
reset != removal, ambiguous reader patterns, the reader's APDU limit and the session budget.
Run under `flock /tmp/pcscd.lock`."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from drivers.errors import AmbiguousReader, CardReset, ChipReadTimeout, DriverError, ReaderBusy
from drivers.smartcard import open_transceiver
from drivers.smartcard.events import card_present
from drivers.smartcard.pcsc import find_reader
from firmware_app.emrtd.errors import TransportError
from firmware_app.emrtd.reader import read_document
from tests.chip_fixtures import counter_rng, make_chip, mrz_key
from tests.pcsc_fixtures import insert_card, remove_card
from tests.vpcd_card import NAME, SELECT_EMRTD, URL, chip_in_reader, pcscd_vpcd, reset_by_another_handle  # noqa: F401


def test_vpcd_readers_make_a_short_pattern_ambiguous(pcscd_vpcd):
    with pytest.raises(AmbiguousReader) as caught:
        find_reader("Virtual PCD")
    assert "Virtual PCD 00 00" in str(caught.value) and "Virtual PCD 00 01" in str(caught.value)
    assert str(find_reader("Virtual PCD 00 01")) == "Virtual PCD 00 01"


def test_nothing_resets_the_card_under_an_open_session(chip_in_reader):
    """The old presence poll connected and disconnected (unpowering the card) every 0.2 s and a
    second `gatectl chip read` did the same: the session's secure messaging broke mid-read."""
    stop, outcomes = threading.Event(), []

    def intruder():
        while not stop.is_set():
            try:
                open_transceiver(URL).close()
                outcomes.append("opened")
            except ReaderBusy:
                outcomes.append("busy")
            outcomes.append("present" if card_present(NAME) else "absent")
            time.sleep(0.01)
    transceiver = open_transceiver(URL)
    thread = threading.Thread(target=intruder, daemon=True)
    thread.start()
    try:
        result = read_document(transceiver, mrz_key(), counter_rng("terminal"), time.monotonic)
    finally:
        stop.set()
        thread.join(5)
    assert result.reauthentications == 0 and result.files
    assert "busy" in outcomes and "opened" not in outcomes[:outcomes.index("busy")]
    assert "absent" not in outcomes


def test_a_second_opener_waits_then_gets_the_card(chip_in_reader):
    first = open_transceiver(URL)
    threading.Timer(0.2, first.close).start()
    second = open_transceiver(URL, timeout_s=3.0)   # waits for the first session to end
    assert second.transmit(SELECT_EMRTD)[-2:] == b"\x90\x00"
    second.close()


def test_reset_by_another_handle_is_a_reset_then_the_session_continues(chip_in_reader):
    transceiver = open_transceiver(URL, exclusive=False)   # e.g. a shared diagnostic session
    assert transceiver.transmit(SELECT_EMRTD)[-2:] == b"\x90\x00"
    reset_by_another_handle()
    with pytest.raises(CardReset):
        transceiver.transmit(SELECT_EMRTD)
    assert transceiver.transmit(SELECT_EMRTD)[-2:] == b"\x90\x00"   # reconnected, card still there
    assert transceiver.resets == 1
    transceiver.close()


def test_reader_without_part10_properties_leaves_the_card_to_decide(pcscd_vpcd):
    inserted = insert_card(make_chip(extended=True, dg2_size=100), pcscd_vpcd[1], extended=True)
    try:
        transceiver = open_transceiver(URL)
        assert transceiver.reader_max_apdu_data is None      # vpcd answers SCardControl "unsupported"
        assert transceiver.extended_length is True
        transceiver.close()
    finally:
        remove_card(inserted)


def test_read_timeout_s_from_the_config_bounds_the_chip_session(pcscd_vpcd):
    from firmware_app.appliance.devices import chip_opener
    inserted = insert_card(make_chip(dg2_size=3000), pcscd_vpcd[1])
    inserted.delay_s = 0.02
    config = SimpleNamespace(smartcard=SimpleNamespace(reader=URL, read_timeout_s=0.3))
    try:
        with pytest.raises(TransportError) as caught:
            read_document(chip_opener(config)(), mrz_key(), counter_rng("terminal"), time.monotonic)
        assert isinstance(caught.value.__cause__, ChipReadTimeout)
        assert isinstance(caught.value.__cause__, DriverError)
    finally:
        inserted.delay_s = 0.0
        remove_card(inserted)
