"""ISO/IEC 7816-4 command chaining for commands longer than a short APDU (CLA bit 0x10)."""
from __future__ import annotations

import pytest

from drivers.smartcard.scripted import ScriptedTransceiver
from firmware_app.emrtd.apdu import CommandApdu
from firmware_app.emrtd.pace.protocol import send_chained
from firmware_app.emrtd.session import Session

OK = b"\x90\x00"


def test_long_command_is_split_into_chained_short_apdus():
    data = bytes(range(256)) * 2  # 512 bytes: 255 + 255 + 2
    card = ScriptedTransceiver([
        (bytes([0x10, 0x86, 0, 0, 255]) + data[:255], OK),
        (bytes([0x10, 0x86, 0, 0, 255]) + data[255:510], OK),
        (bytes([0x00, 0x86, 0, 0, 2]) + data[510:] + b"\x00", b"\x7c\x00" + OK),
    ])
    response = send_chained(Session(card), CommandApdu(0x00, 0x86, 0, 0, data, ne=256), "GA", extended=False)
    card.assert_finished()
    assert response.ok and response.data == b"\x7c\x00"


def test_extended_length_or_short_data_is_sent_whole():
    data = bytes(300)
    card = ScriptedTransceiver([(CommandApdu(0x10, 0x86, 0, 0, data, ne=256).encode(), OK)])
    send_chained(Session(card), CommandApdu(0x10, 0x86, 0, 0, data, ne=256), "GA", extended=True)
    card = ScriptedTransceiver([(bytes([0x10, 0x86, 0, 0, 3, 1, 2, 3]), OK)])
    send_chained(Session(card), CommandApdu(0x10, 0x86, 0, 0, b"\x01\x02\x03"), "GA", extended=False)
    card.assert_finished()


def test_a_refused_part_stops_the_chain():
    card = ScriptedTransceiver([(bytes([0x10, 0x86, 0, 0, 255]) + bytes(255), b"\x6a\x80")])
    response = send_chained(Session(card), CommandApdu(0x00, 0x86, 0, 0, bytes(300)), "GA", extended=False)
    assert response.sw == 0x6A80 and card.finished


def test_absurd_lengths_are_refused():
    with pytest.raises(ValueError, match="too long"):
        send_chained(Session(ScriptedTransceiver([])), CommandApdu(0, 0x86, 0, 0, bytes(5000)), "GA", False)
