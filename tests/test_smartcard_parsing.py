"""Smartcard driver parts that need no pcscd: reader choice, PC/SC part 10 properties, Type B
pseudo-ATRs, the reset/reconnect path and the session time budget (pyscard connection faked)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smartcard.Exceptions import CardConnectionException
from smartcard.scard import SCARD_LEAVE_CARD, SCARD_W_RESET_CARD

from drivers.errors import AmbiguousReader, CardReset, ChipReadTimeout, DriverIOError, DriverUnavailable, ReaderNotFound
from drivers.smartcard.atr import parse_atr
from drivers.smartcard.part10 import (
    combine_extended,
    max_apdu_data,
    parse_features,
    parse_properties,
    reader_allows_extended,
)
from drivers.smartcard.pcsc import PcscTransceiver
from drivers.smartcard.readers import choose_reader

OMNIKEY_5422 = ["HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422 Smartcard Reader] 00 00",
                "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422CL Smartcard Reader] 01 00"]
ACR1252 = ["ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00",
           "ACS ACR1252 Dual Reader [ACR1252 Dual Reader SAM] 00 01"]


@pytest.mark.parametrize("names, pattern", [(OMNIKEY_5422, "OMNIKEY"), (ACR1252, "acr1252"),
                                            (OMNIKEY_5422, "*5422*")])
def test_a_pattern_naming_several_readers_is_refused_with_their_names(names, pattern):
    with pytest.raises(AmbiguousReader) as caught:
        choose_reader(pattern, names)
    assert all(name in str(caught.value) for name in names)
    assert isinstance(caught.value, DriverUnavailable)


def test_a_specific_pattern_or_a_full_name_chooses_one_reader():
    assert choose_reader("5422CL", OMNIKEY_5422) == OMNIKEY_5422[1]
    assert choose_reader("PICC", ACR1252) == ACR1252[0]
    assert choose_reader(OMNIKEY_5422[0].lower(), OMNIKEY_5422) == OMNIKEY_5422[0]
    with pytest.raises(ReaderNotFound, match="readers: "):
        choose_reader("CR5400", OMNIKEY_5422)
    with pytest.raises(ReaderNotFound):
        choose_reader(" ", OMNIKEY_5422)


def test_part10_feature_and_property_lists():
    # GET_FEATURE_REQUEST: VERIFY_PIN_DIRECT (06) and GET_TLV_PROPERTIES (12), codes big-endian
    features = parse_features(bytes.fromhex("0604 42330006" "1204 42330012"))
    assert features == {0x06: 0x42330006, 0x12: 0x42330012}
    # properties: wIdVendor 076B, dwMaxAPDUDataSize 65538 (little-endian), sFirmwareID "5.1"
    properties = parse_properties(bytes.fromhex("0B02 6B07" "0A04 02000100" "0803") + b"5.1")
    assert properties[0x0B] == 0x076B and max_apdu_data(properties) == 65538
    assert max_apdu_data(parse_properties(bytes.fromhex("0A04 00000000"))) == 0
    assert max_apdu_data(parse_properties(b"")) is None


def test_reader_and_card_extended_length_combined():
    assert reader_allows_extended(None) is None
    assert reader_allows_extended(0) is False and reader_allows_extended(256) is False
    assert reader_allows_extended(261) is True and reader_allows_extended(65536) is True
    assert combine_extended(True, False) is False      # a short-APDU reader firmware
    assert combine_extended(True, None) is True        # the reader does not tell: the card decides
    assert combine_extended(None, True) is None        # the card does not tell: the chip layer decides
    assert combine_extended(False, True) is False


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_part10_parsers_take_any_bytes(data):
    assert all(0 <= v < 2 ** 32 for v in parse_features(data).values())
    properties = parse_properties(data)
    assert all(isinstance(v, (int, bytes)) for v in properties.values())
    assert max_apdu_data(properties) is None or 0 <= max_apdu_data(properties) < 2 ** 32


def _pseudo_atr(historical: bytes) -> bytes:
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3b" + body + bytes([check])


def test_type_b_historical_bytes_are_atqb_not_compact_tlv():
    # ATQB application data 80 73 00 00, protocol info C0 81 71, MBLI/CID 00: read as compact-TLV
    # it claims extended length (tag 7, third byte C0); the old parser believed it
    type_b = parse_atr(_pseudo_atr(bytes.fromhex("80730000" "C08171" "00")))
    assert type_b.type_b and type_b.extended_length is None
    exact = parse_atr(_pseudo_atr(bytes.fromhex("80" "730000C0" "52AABB")))
    assert not exact.type_b and exact.extended_length is True


class FakeConnection:
    """A pyscard connection: the first transmit fails with the given hresult, then answers 9000."""

    def __init__(self, fail_with: int | None = None):
        self.fail_with, self.reconnects, self.sent = fail_with, [], []

    def getATR(self):
        return list(bytes.fromhex("3B85800180730000C037"))   # the card claims extended length

    def transmit(self, apdu):
        self.sent.append(bytes(apdu))
        if self.fail_with is not None:
            code, self.fail_with = self.fail_with, None
            raise CardConnectionException("failed", hresult=code)
        return [], 0x90, 0x00

    def reconnect(self, protocol, mode, disposition):
        self.reconnects.append(disposition)


def test_a_reset_card_is_reconnected_and_reported_as_reset_not_removal():
    connection = FakeConnection(fail_with=SCARD_W_RESET_CARD)
    transceiver = PcscTransceiver(connection, "fake")
    with pytest.raises(CardReset) as caught:
        transceiver.transmit(bytes.fromhex("0084000008"))
    assert isinstance(caught.value, DriverIOError) and transceiver.resets == 1
    assert connection.reconnects == [SCARD_LEAVE_CARD]           # not a second reset
    assert transceiver.transmit(bytes.fromhex("0084000008")) == b"\x90\x00"


def test_reader_limit_overrides_the_card_claim():
    assert PcscTransceiver(FakeConnection(), "fake").extended_length is True
    assert PcscTransceiver(FakeConnection(), "fake", reader_max_apdu_data=0).extended_length is False
    assert PcscTransceiver(FakeConnection(), "fake", reader_max_apdu_data=65536).extended_length is True


def test_session_time_budget_ends_the_session():
    now = [100.0]
    transceiver = PcscTransceiver(FakeConnection(), "fake", session_timeout_s=10.0, clock=lambda: now[0])
    assert transceiver.transmit(b"\x00\xa4\x04\x0c") == b"\x90\x00"
    now[0] = 110.0
    with pytest.raises(ChipReadTimeout, match="read_timeout_s"):
        transceiver.transmit(b"\x00\xa4\x04\x0c")
