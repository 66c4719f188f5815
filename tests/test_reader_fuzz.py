"""Property tests: the framing decoders survive any byte stream and recover every good frame."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.passport_reader import DeviceMessage, DocumentRead, Framing, ReadError
from drivers.passport_reader.framing import (
    CuteDecoder,
    DecoderLimits,
    LinesDecoder,
    RteDecoder,
    encode,
)

LIMITS = DecoderLimits(max_frame_bytes=256, max_line_chars=64, idle_timeout_s=0.3)
MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
START = {Framing.CUTE: 0x1C, Framing.RTE: 0x01}
FEW = settings(max_examples=60, deadline=None)

# a filler '<' in every line: a LINES reader reports lines that cannot be MRZ as barcode data
lines_st = st.lists(st.text(MRZ_CHARS, max_size=29).map(lambda text: text + "<"), min_size=1, max_size=3)


def make(framing: Framing):
    return {Framing.CUTE: CuteDecoder, Framing.RTE: RteDecoder, Framing.LINES: LinesDecoder}[
        framing](LIMITS)


def feed_in_pieces(decoder, data: bytes, cuts: list[int], t0: float = 0.0) -> list:
    events, last = [], 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        events += decoder.feed(data[last:cut], t0)
        last = cut
    return events + decoder.poll(t0 + 10)


@FEW
@given(framing=st.sampled_from(list(Framing)), data=st.binary(max_size=2000),
       cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_any_bytes_give_only_typed_bounded_events(framing, data, cuts):
    for event in feed_in_pieces(make(framing), data, cuts) + make(framing).abort():
        assert isinstance(event, (DocumentRead, ReadError, DeviceMessage))
        assert len(event.raw) <= LIMITS.max_frame_bytes
        if isinstance(event, DocumentRead):
            assert 1 <= len(event.lines) <= 3
            assert all(line.isascii() and line.isprintable() for line in event.lines)
            assert all(0 < len(line) <= LIMITS.max_line_chars for line in event.lines)


@FEW
@given(framing=st.sampled_from([Framing.CUTE, Framing.RTE]),
       documents=st.lists(lines_st, min_size=1, max_size=4),
       noise=st.lists(st.binary(max_size=40), min_size=5, max_size=5),
       cuts=st.lists(st.integers(0, 2000), max_size=30))
def test_every_frame_survives_noise_and_chunking(framing, documents, noise, cuts):
    clean = [bytes(b for b in n if b != START[framing]) for n in noise]
    stream = b"".join(clean[i % 5] + encode(framing, doc) for i, doc in enumerate(documents))
    events = feed_in_pieces(make(framing), stream, cuts)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [tuple(d) for d in documents]
    assert not [e for e in events if isinstance(e, ReadError)]


@FEW
@given(framing=st.sampled_from([Framing.CUTE, Framing.RTE]), doc=lines_st,
       cut=st.integers(1, 200))
def test_a_truncated_frame_never_swallows_the_next_one(framing, doc, cut):
    frame = encode(framing, doc)
    events = feed_in_pieces(make(framing), frame[: cut % len(frame) or 1] + frame, [])
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [tuple(doc)]


@FEW
@given(documents=st.lists(lines_st, min_size=1, max_size=4), gap=st.floats(0.31, 5))
def test_lines_documents_separated_by_silence(documents, gap):
    decoder, events, now = make(Framing.LINES), [], 0.0
    for doc in documents:
        events += decoder.feed(encode(Framing.LINES, doc), now)
        now += gap
        events += decoder.poll(now)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [tuple(d) for d in documents]
