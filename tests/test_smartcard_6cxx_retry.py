"""The PC/SC transport's 6Cxx retry: it may only change a short Le, never command data."""
from __future__ import annotations

import pytest

pytest.importorskip("smartcard")

from test_smartcard_driver import _pcsc


@pytest.mark.parametrize("apdu", [
    "00A4040C07A0000002471001",  # case 3: SELECT without Le; its last byte is data
    "0022C1A40F800A04007F00070202040202830101",  # case 3: MSE:Set AT
])
def test_6cxx_to_a_command_without_le_is_returned_not_resent(apdu):
    command = bytes.fromhex(apdu)
    transceiver = _pcsc({command: (b"", 0x6C05)})
    assert transceiver.transmit(command) == b"\x6C\x05"
    assert transceiver._connection.sent == [command]


def test_6cxx_to_a_case_4_command_changes_only_le():
    command = bytes.fromhex("0088000008") + bytes(8) + b"\x00"
    transceiver = _pcsc({command: (b"", 0x6C10), command[:-1] + b"\x10": (b"A" * 16, 0x9000)})
    assert transceiver.transmit(command) == b"A" * 16 + b"\x90\x00"
