"""CUTE delimiter presets (direct STX..ETX, indirect FS..GS or SO..SI, custom) and LINES readers that
share their port with a barcode or stripe reader: foreign data never uses up a document attempt."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.passport_reader import (
    BlockKind,
    CuteDelimiters,
    DeviceMessage,
    DocumentRead,
    Framing,
    ReadError,
    ReadErrorReason,
    ReaderSettings,
    ReaderSettingsError,
)
from drivers.passport_reader.framing import decoder_for, encode
from firmware_app.appliance.devices import ReaderBridge
from firmware_app.config.load import parse_config
from firmware_app.config.model import MrzSection

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
BOARDING_PASS = b"M1ERIKSSON/ANNA MARIA EABC123 LHRJFKBA 0178 226F001A0025 100"
TRACK_1 = b"%B4111111111111111^ERIKSSON/ANNA^2512101?"
TRACK_2 = b";4111111111111111=2512101?"
CODE_128 = b"0123456789"


def settings_for(framing: Framing, **options) -> ReaderSettings:
    return ReaderSettings(url="/dev/x", framing=framing, **options)


def run(decoder, data: bytes, chunk: int = 0) -> list:
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    return [e for piece in pieces for e in decoder.feed(piece, 0.0)] + decoder.poll(10.0)


@pytest.mark.parametrize("preset, wire", [
    (CuteDelimiters.FS_GS, b"\x1c\x02AB<\rCD<\r\x03\x1d"),
    (CuteDelimiters.SO_SI, b"\x0e\x02AB<\rCD<\r\x03\x0f"),
    (CuteDelimiters.DIRECT, b"\x02AB<\rCD<\r\x03"),
])
def test_cute_presets_read_the_documented_frames(preset, wire):
    settings = settings_for(Framing.CUTE, cute_delimiters=preset)
    assert [e.lines for e in run(decoder_for(settings), wire * 2, chunk=3)] == [("AB<", "CD<")] * 2
    assert encode(Framing.CUTE, ["AB<", "CD<"], cute_bytes=settings.cute_bytes) == wire


def test_the_fs_gs_decoder_does_not_read_so_si_frames():
    events = run(decoder_for(settings_for(Framing.CUTE)), b"\x0e\x02AB<\r\x03\x0f")
    assert events == []


def test_custom_delimiters_and_their_checks():
    settings = settings_for(Framing.CUTE, cute_delimiters="custom", cute_open=0x1E, cute_close=0x1F)
    assert [e.lines for e in run(decoder_for(settings), b"\x1e\x02AB<\r\x03\x1f")] == [("AB<",)]
    only_open = settings_for(Framing.CUTE, cute_delimiters="custom", cute_open=0x0E)
    assert [e.lines for e in run(decoder_for(only_open), b"\x0e\x02AB<\r\x03")] == [("AB<",)]
    for bad in ({"cute_open": 0x0E}, {"cute_delimiters": "custom", "cute_open": 0x02},
                {"cute_delimiters": "custom", "cute_open": 0x1E, "cute_close": 0x1E}):
        with pytest.raises(ReaderSettingsError):
            settings_for(Framing.CUTE, **bad)


def test_direct_cute_restarts_on_a_new_stx_and_checks_the_trailer():
    decoder = decoder_for(settings_for(Framing.CUTE, cute_delimiters="direct"))
    events = run(decoder, b"\x02AB<\rC" + b"\x02AB<\r\x03")
    assert [type(e).__name__ for e in events] == ["ReadError", "DocumentRead"]
    assert events[0].reason is ReadErrorReason.TRUNCATED


@pytest.mark.parametrize("text", ["cute_delimiters = 'so_si'", "cute_delimiters = 'direct'",
                                  "cute_delimiters = 'custom'\ncute_open = 30\ncute_close = 31"])
def test_config_accepts_the_presets(text):
    config = parse_config(f'[device]\nid="g"\npost_id="p"\n[reader]\nurl="/dev/x"\n{text}\n')
    ReaderSettings.from_mapping(config.reader.model_dump())


@pytest.mark.parametrize("text", ["cute_open = 14", "cute_delimiters = 'custom'\ncute_open = 3",
                                  "cute_delimiters = 'custom'\ncute_open = 200"])
def test_config_refuses_inconsistent_delimiters(text):
    with pytest.raises(Exception) as caught:
        parse_config(f'[device]\nid="g"\npost_id="p"\n[reader]\nurl="/dev/x"\n{text}\n')
    assert all(p.startswith("reader") for p in caught.value.problems)


@pytest.mark.parametrize("data, kind", [(BOARDING_PASS, BlockKind.BARCODE), (CODE_128, BlockKind.BARCODE),
                                        (TRACK_1, BlockKind.MSR), (TRACK_2, BlockKind.MSR)])
def test_lines_barcode_and_stripe_data_are_not_documents(data, kind):
    decoder = decoder_for(settings_for(Framing.LINES))
    events = run(decoder, data + b"\r\n" + encode(Framing.LINES, TD3))
    assert [type(e).__name__ for e in events] == ["DeviceMessage", "DocumentRead"]
    assert events[0].kind is kind and events[1].lines == TD3


def test_lines_a_barcode_between_mrz_lines_does_not_spoil_the_document():
    wire = (TD1[0] + "\r\n").encode() + CODE_128 + b"\r\n" + encode(Framing.LINES, TD1[1:])
    events = run(decoder_for(settings_for(Framing.LINES)), wire)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [TD1]
    assert not [e for e in events if isinstance(e, ReadError)]


def test_lines_barcode_without_terminator_and_long_barcode():
    decoder = decoder_for(settings_for(Framing.LINES))
    assert [e.kind for e in run(decoder, BOARDING_PASS * 3)] == [BlockKind.BARCODE]
    assert [e.kind for e in run(decoder, BOARDING_PASS * 3 + b"\r")] == [BlockKind.BARCODE]


def test_lines_a_cut_mrz_still_counts_as_a_failed_read():
    decoder = decoder_for(settings_for(Framing.LINES))
    events = run(decoder, (TD3[0] + "\r\n" + TD3[1][:20]).encode())
    assert [e.reason for e in events] == [ReadErrorReason.TRUNCATED]


def test_the_lane_bridge_submits_nothing_for_foreign_blocks():
    submitted = []
    bridge = ReaderBridge(submitted.append, MrzSection(), lambda: None)
    bridge(DeviceMessage(BlockKind.MSR, "D", True, TRACK_2))
    bridge(DeviceMessage(BlockKind.BARCODE, "", False, BOARDING_PASS))
    assert submitted == []


@settings(max_examples=40, deadline=None)
@given(items=st.lists(st.sampled_from([TD3, TD1, BOARDING_PASS, TRACK_1, TRACK_2, CODE_128]),
                      min_size=1, max_size=6), chunk=st.integers(0, 7))
def test_lines_documents_among_scans_in_any_chunking(items, chunk):
    wire = b"".join(encode(Framing.LINES, i) if isinstance(i, tuple) else i + b"\r\n" for i in items)
    events = run(decoder_for(settings_for(Framing.LINES)), wire, chunk)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [i for i in items if isinstance(i, tuple)]
    assert not [e for e in events if isinstance(e, ReadError)]
    assert sum(isinstance(e, DeviceMessage) for e in events) == sum(isinstance(i, bytes) for i in items)
