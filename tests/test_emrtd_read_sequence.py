"""The document read as a list of steps, and its one re-authentication limit (issue 11).

Every path that loses the secure-messaging session re-authenticates through one owner that counts
and stops at MAX_REAUTHENTICATIONS. Before, a refused chip authentication and the extended-length
probe re-authenticated without looking at the limit.
"""
from __future__ import annotations

import time

import pytest

from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.reader import MAX_REAUTHENTICATIONS, DocumentReader, ReadStep
from firmware_app.emrtd.session import Session
from tests.chip_fixtures import counter_rng


class _LosesSessions:
    """In front of the virtual chip: spoils the response MAC of the chosen protected READ BINARY
    answers (the reader must re-authenticate after each), and answers the chip-authentication key
    in plain '9000' (a refused CA, after which the reader re-authenticates again)."""

    def __init__(self, inner, spoil: set[int]):
        self.inner, self.spoil, self.protected_reads = inner, spoil, 0
        self.extended_length = inner.extended_length

    def transmit(self, apdu: bytes) -> bytes:
        answer = self.inner.transmit(apdu)
        protected = bool(apdu[0] & 0x0C)
        if protected and apdu[1] == 0xB0:
            self.protected_reads += 1
            if self.protected_reads in self.spoil:
                return answer[:-3] + bytes([answer[-3] ^ 0x01]) + answer[-2:]
        if (apdu[1] == 0x22 and apdu[2:4] == b"\x41\xA6") or apdu[1] == 0x86:  # CA key (3DES / AES)
            return b"\x90\x00"
        return answer


def _genuine_document_read(spoil: set[int], progress=None):
    from firmware_app.emrtd.keys import mrz_key_from_lines
    from simulator.passport_factory import AaKind
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from simulator.vchip.transport import InProcessTransceiver
    from tests.passport_helpers import passport

    document = passport(aa=AaKind.RSA)
    chip = VirtualIcaoChip(chip_config(document), counter_rng("chip"))
    session = Session(_LosesSessions(InProcessTransceiver(chip), spoil))
    return DocumentReader(session, mrz_key_from_lines(list(document.mrz_lines)), counter_rng("terminal"),
                          time.monotonic, progress=progress).read()


def test_the_steps_run_in_the_documented_order():
    seen = []
    result = _genuine_document_read(set(), lambda step, detail: seen.append(step))
    order = list(dict.fromkeys(seen))
    assert order == [ReadStep.CAPABILITIES, ReadStep.AUTHENTICATE, ReadStep.READ_COM, ReadStep.READ_SOD,
                     ReadStep.READ_DG1, ReadStep.READ_DG2, ReadStep.READ_DG14, ReadStep.CHIP_AUTHENTICATION,
                     ReadStep.READ_DG15, ReadStep.ACTIVE_AUTHENTICATION, ReadStep.DONE]
    assert result.reauthentications == 1  # the refused CA
    assert result.chip_auth.performed and not result.chip_auth.passed and result.active_auth.passed


def test_a_refused_chip_authentication_counts_against_the_one_limit():
    """Three lost sessions while reading are repaired; the refused CA that follows would be the
    fourth re-authentication. It used to go through unchecked (the read finished with 4)."""
    assert MAX_REAUTHENTICATIONS == 3
    with pytest.raises(AuthenticationError, match="too many re-authentications"):
        _genuine_document_read({3, 8, 13})


def test_below_the_limit_the_same_read_completes():
    result = _genuine_document_read({3, 8})
    assert result.reauthentications == 3 and result.active_auth.passed


def test_the_readers_largest_apdu_bounds_each_read_binary():
    """A reader that passes at most 1000 bytes per APDU (PC/SC part 10 dwMaxAPDUDataSize) in front
    of an extended-length chip: each protected answer must fit it, so Le stays below it."""
    from firmware_app.emrtd.files import LdsFile
    from firmware_app.emrtd.reader import read_document
    from simulator.vchip.transport import InProcessTransceiver
    from tests.chip_fixtures import make_chip, mrz_key

    class SmallApduReader(InProcessTransceiver):
        max_apdu_data = 1000

    chip = make_chip(extended=True, dg2_size=5000)
    result = read_document(SmallApduReader(chip), mrz_key(), counter_rng("terminal"), time.monotonic)
    reads = [entry for entry in result.log.entries if entry.step.startswith("read DG2")]
    assert result.extended_length and result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]
    assert len(reads) > 5 and max(entry.ne for entry in reads) <= 1000 - 34  # data + SM objects fit


def test_the_pcsc_transport_declares_the_readers_limit_only_when_it_allows_extended_apdus():
    from drivers.smartcard.pcsc import PcscTransceiver

    class Connection:
        def getATR(self):
            return list(bytes.fromhex("3B85800180730000C037"))   # claims extended length

    assert PcscTransceiver(Connection(), "r", reader_max_apdu_data=1000).max_apdu_data == 1000
    assert PcscTransceiver(Connection(), "r", reader_max_apdu_data=0).max_apdu_data is None
    assert PcscTransceiver(Connection(), "r").max_apdu_data is None
