"""Framing decoders and encoders of the passport reader, byte by byte (no port, no thread)."""
from __future__ import annotations

import pytest

from drivers.passport_reader import (
    DeviceMessage,
    DocumentRead,
    FrameEncodeError,
    Framing,
    ReadError,
    ReadErrorReason,
    RteBccScope,
    RteLengthScope,
)
from drivers.passport_reader.framing import (
    CuteDecoder,
    DecoderLimits,
    LinesDecoder,
    RteDecoder,
    RteOptions,
    block_check,
    encode,
    encode_cute,
    encode_lines,
    encode_rte,
)

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
       "D231458907UTO7408122F1204159<<<<<<<6")
DOCS = [TD3, TD1, TD2]


def decoder(framing: Framing, limits: DecoderLimits = DecoderLimits(), **rte):
    if framing is Framing.CUTE:
        return CuteDecoder(limits)
    if framing is Framing.RTE:
        return RteDecoder(limits, RteOptions(**rte))
    return LinesDecoder(limits)


def run(dec, data: bytes, chunk: int = 0, end: float = 10.0) -> list:
    """Feed data (whole or in chunks) at t=0, then let the idle timeout pass."""
    events = []
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    for piece in pieces:
        events += dec.feed(piece, 0.0)
    return events + dec.poll(end)


def docs(events) -> list[tuple[str, ...]]:
    return [e.lines for e in events if isinstance(e, DocumentRead)]


def reasons(events) -> list[ReadErrorReason]:
    return [e.reason for e in events if isinstance(e, ReadError)]


@pytest.mark.parametrize("framing", list(Framing))
@pytest.mark.parametrize("doc", DOCS, ids=["td3", "td1", "td2"])
@pytest.mark.parametrize("chunk", [0, 1, 7])
def test_round_trip_in_any_chunking(framing, doc, chunk):
    frame = encode(framing, doc)
    events = run(decoder(framing), frame, chunk)
    assert docs(events) == [doc]
    # a LINES document is complete at the last line's CR; the LF after it belongs to no document
    assert events[0].raw == (frame.rstrip(b"\n") if framing is Framing.LINES else frame)


def test_cute_frame_is_byte_exact():
    assert encode_cute(["AB", "CD"]) == b"\x1c\x02AB\rCD\r\x03\x1d"


def test_rte_two_line_document_has_empty_first_line_and_padding():
    frame = encode_rte(["AB", "CD"])
    # 3M: the length word counts the device byte through the BCC, 7 bits per byte
    assert frame[:3] == bytes([0x01, len(frame) - 3, 0]) and frame[3:7] == b"OU\x020"
    assert frame[7:-2] == b"\r" + b"AB".ljust(44, b"_") + b"\r" + b"CD".ljust(44, b"_") + b"\r"
    assert frame[-2] == 0x03 and frame[-1] == block_check(frame[1:-1])


def test_rte_three_lines_are_padded_to_30():
    frame = encode_rte(list(TD1))
    assert frame[7:-2].split(b"\r")[:3] == [line.encode() for line in TD1]
    assert encode_rte(["X"])[7:10] == b"\r\rX"


@pytest.mark.parametrize("scope", list(RteBccScope))
@pytest.mark.parametrize("length", list(RteLengthScope))
def test_rte_configurable_bcc_and_length_round_trip(scope, length):
    options = {"bcc_scope": scope, "length_scope": length}
    frame = encode_rte(list(TD3), RteOptions(**options))
    assert docs(run(decoder(Framing.RTE, **options), frame)) == [TD3]


def test_rte_bcc_scope_mismatch_is_a_bad_bcc():
    frame = encode_rte(list(TD3), RteOptions(bcc_scope=RteBccScope.FROM_SOH))
    assert reasons(run(decoder(Framing.RTE), frame)) == [ReadErrorReason.BAD_BCC]


def test_rte_corrupted_bcc_detected_unless_checking_is_off():
    frame = bytearray(encode_rte(list(TD3)))
    frame[-1] ^= 0x40
    assert reasons(run(decoder(Framing.RTE), bytes(frame))) == [ReadErrorReason.BAD_BCC]
    assert docs(run(decoder(Framing.RTE, check_bcc=False), bytes(frame))) == [TD3]


def test_rte_wrong_length_word():
    frame = bytearray(encode_rte(list(TD3), RteOptions(check_bcc=False)))
    frame[1] += 1   # promises one byte more than sent: a length fault once the line is silent
    events = run(decoder(Framing.RTE, check_bcc=False), bytes(frame))
    assert reasons(events) == [ReadErrorReason.BAD_LENGTH]
    short = bytearray(frame)
    short[1] -= 2   # ends before its ETX
    assert reasons(run(decoder(Framing.RTE, check_bcc=False), bytes(short)))[:1] == [ReadErrorReason.BAD_LENGTH]
    unchecked = decoder(Framing.RTE, check_bcc=False, length_scope=RteLengthScope.UNCHECKED)
    assert docs(run(unchecked, bytes(frame))) == [TD3]


def test_rte_bottom_line_must_be_line_three():
    text = b"AB" + b"\r\r\r"   # text on line 1, lines 2 and 3 empty
    frame = _rte_raw(text)
    assert reasons(run(decoder(Framing.RTE), frame)) == [ReadErrorReason.BAD_LAYOUT]
    assert reasons(run(decoder(Framing.RTE), _rte_raw(b"A\rB\r"))) == [ReadErrorReason.BAD_LAYOUT]


def _rte_raw(text: bytes) -> bytes:
    body = b"OU\x020" + text + b"\x03"
    head = bytes([1, len(body) + 1, 0])   # device byte .. BCC
    return head + body + bytes([block_check(head[1:] + body)])


@pytest.mark.parametrize("framing", [Framing.CUTE, Framing.RTE])
def test_noise_between_frames_is_dropped(framing):
    frame = encode(framing, TD3)
    noise = bytes(b for b in range(256) if b not in (0x01, 0x1C))
    dec = decoder(framing)
    events = run(dec, noise + frame + noise + frame, chunk=5)
    assert docs(events) == [TD3, TD3] and not reasons(events)
    if framing is Framing.RTE:  # ACK and NAK are the reader's answers, not noise
        assert [e.kind.value for e in events if isinstance(e, DeviceMessage)] == ["ack", "nak"] * 2
        noise = noise.replace(b"\x06", b"").replace(b"\x15", b"")
    assert dec.discarded_bytes >= 2 * len(noise)


def test_rte_header_resync_finds_a_frame_hidden_in_a_false_start():
    frame = encode_rte(list(TD3))
    assert docs(run(decoder(Framing.RTE), b"\x01\x05" + frame)) == [TD3]
    assert docs(run(decoder(Framing.RTE), b"\x01\x05\x01" + frame)) == [TD3]


@pytest.mark.parametrize("framing", [Framing.CUTE, Framing.RTE])
def test_truncated_frame_then_good_frame(framing):
    frame = encode(framing, TD3)
    events = run(decoder(framing), frame[:40] + frame)
    assert reasons(events) == [ReadErrorReason.TRUNCATED]
    assert docs(events) == [TD3]


@pytest.mark.parametrize("framing", list(Framing))
def test_unfinished_frame_is_reported_after_silence_only(framing):
    dec = decoder(framing, DecoderLimits(idle_timeout_s=0.3))
    assert dec.feed(encode(framing, TD3)[:30], now=1.0) == []
    assert dec.poll(now=1.2) == []
    assert reasons(dec.poll(now=1.31)) == [ReadErrorReason.TRUNCATED]
    assert dec.poll(now=5.0) == []


@pytest.mark.parametrize("framing", list(Framing))
def test_abort_reports_unfinished_frame(framing):
    dec = decoder(framing)
    dec.feed(encode(framing, TD3)[:30], now=0.0)
    assert reasons(dec.abort()) == [ReadErrorReason.TRUNCATED]
    assert dec.abort() == []


@pytest.mark.parametrize("framing", [Framing.CUTE, Framing.RTE])
def test_oversized_frame_is_bounded_then_resyncs(framing):
    # RTE: a length word beyond the bound frames the block by its ETX, which never comes
    start = b"\x01\x7f\x7fOU\x020" if framing is Framing.RTE else encode(framing, TD3)[:7]
    dec = decoder(framing, DecoderLimits(max_frame_bytes=128))
    events = run(dec, start + b"A" * 10_000 + encode(framing, TD3))
    assert reasons(events) == [ReadErrorReason.OVERSIZED]
    assert docs(events) == [TD3]


def test_cute_control_byte_in_text_and_bad_trailer():
    frame = bytearray(encode_cute(list(TD3)))
    frame[10] = 0x07
    assert reasons(run(decoder(Framing.CUTE), bytes(frame))) == [ReadErrorReason.BAD_CHARACTER]
    bad_end = encode_cute(list(TD3))[:-1] + b"X"
    assert reasons(run(decoder(Framing.CUTE), bad_end)) == [ReadErrorReason.BAD_TRAILER]


def test_cute_empty_frame_and_too_many_lines():
    assert reasons(run(decoder(Framing.CUTE), b"\x1c\x02\r\r\x03\x1d")) == [ReadErrorReason.NO_TEXT]
    four = b"\x1c\x02A\rB\rC\rD\r\x03\x1d"
    assert reasons(run(decoder(Framing.CUTE), four)) == [ReadErrorReason.BAD_LAYOUT]


def test_cute_false_start_is_noise():
    dec = decoder(Framing.CUTE)
    assert run(dec, b"\x1cX") == [] and dec.discarded_bytes == 2
    assert docs(run(decoder(Framing.CUTE), b"\x1cX" + encode_cute(list(TD3)))) == [TD3]


def test_lines_shape_completes_document_without_waiting():
    dec = decoder(Framing.LINES)
    events = dec.feed(encode_lines(list(TD3)), now=0.0)
    assert docs(events) == [TD3]


def test_lines_unknown_shape_waits_for_the_timeout():
    dec = LinesDecoder(DecoderLimits(idle_timeout_s=0.3))
    assert dec.feed(b"AB<\rDE<\n", now=0.0) == []
    assert dec.poll(now=0.2) == []
    assert docs(dec.poll(now=0.31)) == [("AB<", "DE<")]


def test_lines_blank_line_ends_document_and_crlf_is_one_terminator():
    dec = decoder(Framing.LINES)
    assert docs(dec.feed(b"AB<\r\nDE<\r\n\r\nGH<\n\n", now=0.0)) == [("AB<", "DE<"), ("GH<",)]


def test_lines_noise_between_lines_dropped_inside_a_line_spoils_it():
    dec = decoder(Framing.LINES)
    clean = b"\x00\xff" + encode_lines(list(TD3), b"\r")
    assert docs(dec.feed(clean, now=0.0)) == [TD3]
    spoiled = TD3[0].encode() + b"\r" + TD3[1][:10].encode() + b"\x00" + TD3[1][10:].encode() + b"\r"
    assert reasons(run(dec, spoiled)) == [ReadErrorReason.BAD_CHARACTER]


def test_lines_too_many_and_too_long():
    assert reasons(run(decoder(Framing.LINES), b"A<\rB<\rC<\rD<\r")) == [ReadErrorReason.BAD_LAYOUT]
    dec = decoder(Framing.LINES)
    assert reasons(run(dec, b"A" * 100_000 + b"\r")) == [ReadErrorReason.OVERSIZED]


@pytest.mark.parametrize("framing", list(Framing))
@pytest.mark.parametrize("lines", [[], ["A"] * 4, [""], ["ab\x07"], ["é"], ["A" * 45], [b"AB"]])
def test_encoders_refuse_what_no_reader_sends(framing, lines):
    with pytest.raises(FrameEncodeError):
        encode(framing, lines)


@pytest.mark.parametrize("lines", [["A" * 31, "B", "C"], ["AB_C"], "ABC"])
def test_rte_refuses_what_its_layout_cannot_carry(lines):
    with pytest.raises(FrameEncodeError):
        encode_rte(lines)


def test_document_repr_hides_mrz_text():
    event = run(decoder(Framing.CUTE), encode_cute(list(TD3)))[0]
    assert "ERIKSSON" not in repr(event) and "L898902C3" not in repr(event)
    assert "ERIKSSON" not in repr(ReadError(ReadErrorReason.BAD_BCC, b"ERIKSSON"))


@pytest.mark.parametrize("framing", [Framing.CUTE, Framing.RTE])
@pytest.mark.parametrize("doc", [TD3, ("0",)], ids=["td3", "short"])
def test_cut_at_every_position_then_a_good_frame(framing, doc):
    # includes the RTE cases where the next SOH lands on the flag byte or on the BCC position
    frame = encode(framing, doc)
    for cut in range(1, len(frame)):
        events = run(decoder(framing), frame[:cut] + frame)
        assert docs(events) == [doc], cut
        assert reasons(events) in ([], [ReadErrorReason.TRUNCATED]), cut
