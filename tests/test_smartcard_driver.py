"""Smartcard transport: ATR parsing, 61xx/6Cxx handling, scripted transport, backend by URL."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import AtrError, ScriptMismatch, UnknownBackend
from drivers.smartcard import open_transceiver
from drivers.smartcard.atr import parse_atr
from drivers.smartcard.scripted import ScriptedTransceiver


def test_atr_capabilities_and_errors():
    info = parse_atr(bytes.fromhex("3B85800180730000C037"))
    assert info.historical == bytes.fromhex("80730000C0") and info.extended_length is True
    assert parse_atr(bytes.fromhex("3B858001807300008077")).extended_length is False
    assert parse_atr(bytes.fromhex("3B8880010000000000718100 79".replace(" ", ""))).extended_length is None
    for bad in (b"", b"\x3b", bytes.fromhex("3B8F80"), bytes.fromhex("3F")):
        with pytest.raises(AtrError):
            parse_atr(bad)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_fuzz_atr_only_typed_errors(data):
    try:
        parse_atr(data)
    except AtrError:
        pass


class FakeConnection:
    """Stands in for a pyscard connection: answers from a dict keyed by the command bytes."""

    def __init__(self, answers):
        self.answers, self.sent = answers, []

    def getATR(self):
        return list(bytes.fromhex("3B85800180730000C037"))

    def transmit(self, apdu):
        self.sent.append(bytes(apdu))
        data, sw = self.answers[bytes(apdu)]
        return list(data), sw >> 8, sw & 0xFF


def _pcsc(answers):
    from drivers.smartcard.pcsc import PcscTransceiver
    return PcscTransceiver(FakeConnection(answers), "fake")


def test_get_response_chain_is_followed():
    transceiver = _pcsc({bytes.fromhex("0088000008") + bytes(8) + b"\x00": (b"", 0x6110),
                         bytes.fromhex("00C0000010"): (b"A" * 16, 0x6104),
                         bytes.fromhex("00C0000004"): (b"B" * 4, 0x9000)})
    assert transceiver.extended_length is True
    assert transceiver.transmit(bytes.fromhex("0088000008") + bytes(8) + b"\x00") == b"A" * 16 + b"B" * 4 + b"\x90\x00"


def test_wrong_le_is_resent():
    transceiver = _pcsc({bytes.fromhex("00B0000000"): (b"", 0x6C05), bytes.fromhex("00B0000005"): (b"12345", 0x9000)})
    assert transceiver.transmit(bytes.fromhex("00B0000000")) == b"12345\x90\x00"


def test_scripted_transceiver_fails_loudly():
    card = ScriptedTransceiver([(b"\x00\x84\x00\x00\x08", b"\x90\x00")])
    with pytest.raises(ScriptMismatch, match="expected 0084000008"):
        card.transmit(b"\x00\x84\x00\x00\x09")
    card = ScriptedTransceiver([(b"\x01", b"\x90\x00"), (b"\x02", b"\x90\x00")])
    card.transmit(b"\x01")
    with pytest.raises(ScriptMismatch, match="never sent"):
        card.assert_finished()
    card.transmit(b"\x02")
    with pytest.raises(ScriptMismatch, match="extra"):
        card.transmit(b"\x03")


def test_unknown_backend_is_an_error_not_a_fallback():
    with pytest.raises(UnknownBackend):
        open_transceiver("sim://")
