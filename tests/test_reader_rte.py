"""3M RTE native blocks as the RTE integration manuals lay them out: the length word counts the
device byte through the BCC in two 7-bit bytes, the BCC is optional (UseBCC), and the blocks of the
other devices sharing the port are recognised, never counted as failed documents."""
from __future__ import annotations

import logging
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.passport_reader import (
    BlockKind,
    DeviceMessage,
    DocumentRead,
    Framing,
    ReadError,
    ReadErrorReason,
    ReaderSettings,
    ReaderSettingsError,
    RteLengthScope,
    RteMode,
)
from drivers.passport_reader.framing import RteDecoder, RteOptions, decoder_for, encode_block, encode_rte
from drivers.passport_reader.serial_reader import port_options
from firmware_app.config.load import parse_config

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NO_BCC = RteOptions(use_bcc=False)


def by_hand(device: bytes, kind: bytes, text: bytes, bcc: bool = True) -> bytes:
    """A block built from the manual's description alone, independently of the encoder."""
    body = device + kind + b"\x02" + text + b"\x03"
    n = len(body) + (1 if bcc else 0)            # device byte .. BCC
    frame = b"\x01" + bytes([n & 0x7F, (n >> 7) & 0x7F]) + body
    return frame + bytes([reduce(lambda a, b: a ^ b, frame[1:], 0)]) if bcc else frame


def td3_text() -> bytes:
    return b"0\r" + b"".join(line.encode().ljust(44, b"_") + b"\r" for line in TD3)


def run(decoder, data: bytes, chunk: int = 0) -> list:
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    events = [e for piece in pieces for e in decoder.feed(piece, 0.0)]
    return events + decoder.poll(10.0)


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


def test_a_hand_built_block_is_read_with_the_default_settings():
    settings = ReaderSettings(url="/dev/x", framing=Framing.RTE)
    events = run(decoder_for(settings), by_hand(b"O", b"U", td3_text()))
    assert [e.lines for e in events] == [TD3]
    assert encode_rte(TD3) == by_hand(b"O", b"U", td3_text())


def test_length_word_is_seven_bits_per_byte():
    text = b"x" * 300
    frame = by_hand(b"1", b"D", text)
    n = len(frame) - 3
    assert frame[1:3] == bytes([n & 0x7F, n >> 7]) and frame[2] == 2   # 8-bit would be (n & 0xFF, 1)
    assert encode_block(ord("1"), ord("D"), text) == frame
    events = run(RteDecoder(options=RteOptions()), frame)
    assert events == [DeviceMessage(BlockKind.PASS_THROUGH, "D", True, frame)]


def test_eight_bit_length_bytes_are_not_a_block_header():
    frame = bytearray(by_hand(b"O", b"U", td3_text()))
    frame[1] |= 0x80
    events = run(RteDecoder(), bytes(frame) + encode_rte(TD3))
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [TD3]
    assert not [e for e in events if isinstance(e, ReadError)]


def test_block_scope_was_wrong_for_real_frames():
    frame = by_hand(b"O", b"U", td3_text())
    old_default = RteDecoder(options=RteOptions(length_scope=RteLengthScope.BLOCK))
    assert [e.reason for e in run(old_default, frame)][:1] == [ReadErrorReason.BAD_LENGTH]


def test_without_bcc_the_block_is_framed_by_its_length_word():
    frame = by_hand(b"O", b"U", td3_text(), bcc=False)
    assert encode_rte(TD3, NO_BCC) == frame
    assert [e.lines for e in run(RteDecoder(options=NO_BCC), frame + frame, chunk=3)] == [TD3, TD3]
    # a decoder expecting a BCC sees the next block's SOH where its BCC should be: nothing is lost
    # silently; each block is a length fault or a truncation, never a document with wrong text
    events = run(RteDecoder(), frame + frame)
    assert not [e for e in events if isinstance(e, DocumentRead)]
    assert all(isinstance(e, ReadError) for e in events) and events


@pytest.mark.parametrize("device, kind", [(b"C", BlockKind.MSR), (b"A", BlockKind.BARCODE),
                                          (b"1", BlockKind.PASS_THROUGH), (b"S", BlockKind.SMARTCARD),
                                          (b"0", BlockKind.DEVICE)])
@pytest.mark.parametrize("message_type", [b"D", b"E", b"C", b"U"])
def test_other_devices_are_device_messages_not_documents(device, kind, message_type):
    block = by_hand(device, message_type, b";4111111111111111=2512?")
    events = run(RteDecoder(), block + encode_rte(TD3))
    assert events[0] == DeviceMessage(kind, message_type.decode(), True, block)
    assert [e.lines for e in events[1:]] == [TD3] and kinds(events) == ["DeviceMessage", "DocumentRead"]


@pytest.mark.parametrize("message_type", [b"D", b"E", b"C"])
def test_optical_messages_other_than_unsolicited_data_are_not_documents(message_type):
    events = run(RteDecoder(), by_hand(b"O", message_type, b"07"))
    assert [(e.kind, e.message_type) for e in events] == [(BlockKind.OCR_MESSAGE, message_type.decode())]


def test_damaged_or_cut_foreign_blocks_are_still_not_failed_documents():
    block = bytearray(by_hand(b"C", b"D", b"%B4111^DOE/J^25?"))
    block[-1] ^= 0x01
    damaged = run(RteDecoder(), bytes(block))
    cut = run(RteDecoder(), bytes(block[:12]))
    mixed = run(RteDecoder(), bytes(block[:12]) + encode_rte(TD3))
    assert [(type(e), e.intact) for e in damaged + cut] == [(DeviceMessage, False)] * 2
    assert kinds(mixed) == ["DeviceMessage", "DocumentRead"] and mixed[1].lines == TD3


def test_ack_and_nak_between_blocks():
    events = run(RteDecoder(), b"\x06" + encode_rte(TD3) + b"\x15")
    assert kinds(events) == ["DeviceMessage", "DocumentRead", "DeviceMessage"]
    assert [events[0].kind, events[2].kind] == [BlockKind.ACK, BlockKind.NAK]


@pytest.mark.parametrize("mode", [RteMode.INTERRUPT, RteMode.POLLED])
def test_interrupt_and_polled_modes_are_refused_by_the_driver_and_config_check(mode):
    with pytest.raises(ReaderSettingsError, match="Enable command"):
        ReaderSettings(url="/dev/x", framing=Framing.RTE, rte_mode=mode)
    with pytest.raises(Exception) as caught:
        parse_config(f'[device]\nid="g"\npost_id="p"\n[reader]\nurl="/dev/x"\nframing="rte"\n'
                     f'rte_mode="{mode.value}"\n')
    assert any("reader" in p and "Enable command" in p for p in caught.value.problems)


def test_byte_size_parity_and_stop_bits_reach_the_port():
    settings = ReaderSettings(url="/dev/x", framing=Framing.RTE, bytesize=7, parity="even", stopbits=2)
    assert port_options(settings) == {"baudrate": 9600, "bytesize": 7, "parity": "E", "stopbits": 2,
                                      "exclusive": True}
    with pytest.raises(ReaderSettingsError):
        ReaderSettings(url="/dev/x", bytesize=6)


def test_foreign_block_data_is_logged_only_at_debug(caplog):
    from drivers.passport_reader.serial_reader import _log_device_message
    caplog.set_level(logging.DEBUG, logger="drivers.passport_reader.serial_reader")
    _log_device_message(DeviceMessage(BlockKind.MSR, "D", True, b"%B4111^DOE/JOHN^25?"))
    loud = " ".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    assert "msr" in loud and "DOE" not in loud and "4111" not in loud


blocks_st = st.lists(st.one_of(
    st.tuples(st.just("doc"), st.sampled_from([TD3, TD3[:1]])),
    st.tuples(st.sampled_from("CA1S0"), st.binary(max_size=40).map(
        lambda b: bytes(x & 0x7F for x in b if x & 0x7F not in (1, 2, 3))))), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(blocks=blocks_st, use_bcc=st.booleans(), chunk=st.integers(0, 9))
def test_documents_among_other_blocks_in_any_chunking(blocks, use_bcc, chunk):
    options = RteOptions(use_bcc=use_bcc)
    stream = b"".join(encode_rte(b[1], options) if b[0] == "doc" else
                      encode_block(ord(b[0]), ord("D"), b[1], options) for b in blocks)
    events = run(RteDecoder(options=options), stream, chunk)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [b[1] for b in blocks if b[0] == "doc"]
    assert not [e for e in events if isinstance(e, ReadError)]
    assert sum(isinstance(e, DeviceMessage) for e in events) == sum(b[0] != "doc" for b in blocks)
