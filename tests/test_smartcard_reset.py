"""A card reset is a reconnect, not a failure (issue 11; the flaky "Card was reset", 0x80100068):
the PC/SC transport takes its handle back, and the chip layer opens a new secure-messaging session
and goes on reading. Through the real stack (pyscard -> pcscd -> vpcd -> virtual chip); run under
`flock /tmp/pcscd.lock`."""
from __future__ import annotations

import time

from drivers.smartcard import open_transceiver
from drivers.smartcard.pcsc import PcscTransceiver
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.reader import ReadStep, read_document
from tests.chip_fixtures import counter_rng, mrz_key
from tests.vpcd_card import NAME, SELECT_EMRTD, URL, chip_in_reader, pcscd_vpcd, reset_by_another_handle  # noqa: F401


def test_a_reset_between_connecting_and_reading_the_atr_reconnects(chip_in_reader):
    """The race behind the flaky fresh-clone failure: the card is reset after SCardConnect and
    before SCardStatus (the ATR). The clock is asked once in between: that is where it happens."""
    calls = []

    def clock() -> float:
        calls.append(1)
        if len(calls) == 2:
            reset_by_another_handle()
        return time.monotonic()
    transceiver = PcscTransceiver.open(NAME, exclusive=False, session_timeout_s=30.0, clock=clock)
    try:
        assert len(calls) >= 2 and transceiver.atr[:1] == b"\x3b" and transceiver.resets == 1
        assert transceiver.transmit(SELECT_EMRTD)[-2:] == b"\x90\x00"
    finally:
        transceiver.close()


def _expected(chip, file: LdsFile) -> bytes:
    return chip.config.files[file.fid]


def test_a_reset_before_a_file_re_authenticates_and_the_read_completes(chip_in_reader):
    transceiver = open_transceiver(URL, exclusive=False)   # shared, so another handle can reset it

    def progress(step: ReadStep, detail: str) -> None:
        if step is ReadStep.READ_DG1:
            reset_by_another_handle()    # the next APDU, SELECT DG1, meets the reset
    result = read_document(transceiver, mrz_key(), counter_rng("terminal"), time.monotonic, progress=progress)
    assert transceiver.resets == 1 and result.reauthentications == 1
    assert result.files[LdsFile.DG1] == _expected(chip_in_reader, LdsFile.DG1)
    assert result.files[LdsFile.DG2] == _expected(chip_in_reader, LdsFile.DG2)


def test_a_reset_between_two_blocks_re_authenticates_and_the_read_completes(chip_in_reader):
    transceiver = open_transceiver(URL, exclusive=False)
    blocks = []

    def watch(file: LdsFile):
        if file is not LdsFile.DG2:
            return None

        def seen(piece: bytes) -> None:
            blocks.append(len(piece))
            if len(blocks) == 2:
                reset_by_another_handle()   # the next READ BINARY of DG2 meets the reset
        return seen
    result = read_document(transceiver, mrz_key(), counter_rng("terminal"), time.monotonic, watch=watch)
    assert transceiver.resets == 1 and result.reauthentications == 1
    assert result.files[LdsFile.DG2] == _expected(chip_in_reader, LdsFile.DG2)
