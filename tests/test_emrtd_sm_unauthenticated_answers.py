"""Secure messaging: what an unauthenticated (plain or tampered) answer must never achieve."""
from __future__ import annotations

import pytest

from firmware_app.emrtd.apdu import CommandApdu, ResponseApdu
from firmware_app.emrtd.cipher import AesSuite, Des3Suite, pad
from firmware_app.emrtd.errors import SecureMessagingError
from firmware_app.emrtd.sm import SecureMessaging
from firmware_app.emrtd.tlv import encode_tlv

KS_ENC, KS_MAC = bytes(range(16)), bytes(range(16, 32))
SELECT_COM = CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1E")


def _chip_response(suite, ssc: int, objects: bytes) -> bytes:
    """A protected response as the genuine chip computes it (MAC over SSC + objects)."""
    ssc_bytes = ssc.to_bytes(suite.block_size, "big")
    mac = suite.mac(KS_MAC, pad(ssc_bytes + objects, suite.block_size))
    return objects + encode_tlv(0x8E, mac)


@pytest.mark.parametrize("suite", [Des3Suite(), AesSuite()])
@pytest.mark.parametrize("sw", [0x9000, 0x6100, 0x6282])
def test_plain_success_answer_is_refused(suite, sw):
    # a clone without the session keys could otherwise answer "9000" in plain and be believed
    sm = SecureMessaging(suite, KS_ENC, KS_MAC)
    sm.wrap(SELECT_COM)
    with pytest.raises(SecureMessagingError):
        sm.unwrap(ResponseApdu(b"", sw))
    assert sm.ended


@pytest.mark.parametrize("suite", [Des3Suite(), AesSuite()])
def test_genuine_select_answer_verifies(suite):
    sm = SecureMessaging(suite, KS_ENC, KS_MAC)
    sm.wrap(SELECT_COM)
    answer = _chip_response(suite, 2, encode_tlv(0x99, b"\x90\x00"))
    response = sm.unwrap(ResponseApdu(answer, 0x9000))
    assert response.ok and response.data == b""


@pytest.mark.parametrize("suite", [Des3Suite(), AesSuite()])
def test_data_object_after_the_mac_is_refused(suite):
    # objects after DO8E are not covered by the MAC: a relay could append its own DO87
    sm = SecureMessaging(suite, KS_ENC, KS_MAC)
    sm.wrap(SELECT_COM)
    answer = _chip_response(suite, 2, encode_tlv(0x99, b"\x90\x00"))
    ssc = (2).to_bytes(suite.block_size, "big")
    forged = encode_tlv(0x87, b"\x01" + suite.encrypt(KS_ENC, pad(b"forged", suite.block_size), ssc))
    with pytest.raises(SecureMessagingError):
        sm.unwrap(ResponseApdu(answer + forged, 0x9000))
    assert sm.ended


@pytest.mark.parametrize("suite", [Des3Suite(), AesSuite()])
def test_status_word_after_the_mac_is_refused(suite):
    sm = SecureMessaging(suite, KS_ENC, KS_MAC)
    sm.wrap(SELECT_COM)
    answer = _chip_response(suite, 2, b"")  # a MAC over nothing but the SSC
    with pytest.raises(SecureMessagingError):
        sm.unwrap(ResponseApdu(answer + encode_tlv(0x99, b"\x90\x00"), 0x9000))
