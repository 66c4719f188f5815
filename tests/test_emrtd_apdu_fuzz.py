"""APDU encoding round trips; hostile bytes into SM unwrap and the virtual chip give typed answers only."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.apdu import CommandApdu, ResponseApdu, parse_command
from firmware_app.emrtd.cipher import AesSuite, Des3Suite
from firmware_app.emrtd.errors import ApduError, EmrtdError
from firmware_app.emrtd.sm import SecureMessaging
from tests.chip_fixtures import PACE_BRAINPOOL_AES128, make_chip


def test_known_encodings():
    assert CommandApdu(0, 0xB0, 0, 0, ne=256).encode() == bytes.fromhex("00B0000000")
    assert CommandApdu(0, 0xB0, 0, 0, ne=65536).encode() == bytes.fromhex("00B00000000000")
    assert CommandApdu(0, 0xB0, 0, 0, ne=1000).encode() == bytes.fromhex("00B000000003E8")
    assert CommandApdu(0, 0x22, 0xC1, 0xA4, b"\x01" * 300).encode()[:7] == bytes.fromhex("0022C1A400012C")
    with pytest.raises(ApduError):
        CommandApdu(0, 0x100, 0, 0).encode()
    with pytest.raises(ApduError):
        ResponseApdu.parse(b"\x90")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=400), st.sampled_from([0, 1, 255, 256, 257, 4000, 65536]))
def test_command_round_trip(ins, data, ne):
    command = CommandApdu(0x00, ins, 0x01, 0x02, data, ne)
    assert parse_command(command.encode()) == command


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parse_command_only_typed_errors(raw):
    try:
        parse_command(raw)
    except ApduError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([Des3Suite(), AesSuite()]), st.binary(max_size=120), st.integers(0, 0xFFFF))
def test_sm_unwrap_of_hostile_response_only_typed_errors(suite, body, sw):
    sm = SecureMessaging(suite, bytes(16), bytes(16), 0)
    sm.wrap(CommandApdu(0, 0xB0, 0, 0, ne=16))
    try:
        sm.unwrap(ResponseApdu(body, sw))
    except EmrtdError:
        assert sm.ended


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=80), min_size=1, max_size=6))
def test_virtual_chip_never_crashes_on_hostile_commands(commands):
    chip = make_chip([PACE_BRAINPOOL_AES128], dg2_size=100)
    for raw in commands:
        response = chip.process(raw)
        assert len(response) >= 2


_COMMANDS = st.builds(
    lambda cla, ins, p1, p2, data, ne: CommandApdu(cla, ins, p1, p2, data, ne).encode(),
    st.sampled_from([0x00, 0x0C, 0x10]), st.sampled_from([0xA4, 0xB0, 0xB1, 0x84, 0x82, 0x22, 0x86, 0x88]),
    st.sampled_from([0x00, 0x02, 0x04, 0x41, 0x81, 0x9C, 0xC1]), st.sampled_from([0x00, 0x0C, 0xA4, 0xA6]),
    st.binary(max_size=60), st.sampled_from([0, 8, 256]))


@settings(max_examples=150, deadline=None)
@given(st.lists(_COMMANDS, min_size=1, max_size=8))
def test_virtual_chip_never_crashes_on_well_formed_hostile_commands(commands):
    chip = make_chip([PACE_BRAINPOOL_AES128], dg2_size=100)
    for raw in commands:
        assert len(chip.process(raw)) >= 2
