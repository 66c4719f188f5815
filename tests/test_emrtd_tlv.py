"""BER-TLV parser: known encodings, bounds, and fuzzing (only TlvError, never a crash)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.errors import TlvError
from firmware_app.emrtd.tlv import (
    encode_length,
    encode_tlv,
    iter_tlv,
    parse_single_tlv,
    parse_tlv,
    read_header,
)


def test_short_and_long_lengths_round_trip():
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0x1234) == b"\x82\x12\x34"
    value = bytes(300)
    node = parse_single_tlv(encode_tlv(0x5F1F, value))
    assert node.tag == 0x5F1F and node.value == value and not node.constructed


def test_constructed_children_are_parsed():
    inner = encode_tlv(0x80, b"\x01") + encode_tlv(0x5F2E, b"abc")
    node = parse_single_tlv(encode_tlv(0x7F61, inner), expected_tag=0x7F61)
    assert [c.tag for c in node.children] == [0x80, 0x5F2E]
    assert node.require(0x5F2E).value == b"abc"
    assert node.find(0x99) is None


def test_read_header_of_file_prefix():
    header = read_header(b"\x75\x82\x3a\xeb")
    assert (header.tag, header.length, header.header_size, header.total_size) == (0x75, 0x3AEB, 4, 0x3AEF)


@pytest.mark.parametrize("data, reason", [
    (b"\x5f", "truncated multi-byte tag"),
    (b"\x04\x80", "indefinite"),
    (b"\x04\x85\x00\x00\x00\x00\x01", "too long"),
    (b"\x04\x82\x01", "truncated length"),
    (b"\x04\x05abc", "declares 5 bytes"),
    (b"\x1f\xff\xff\xff\x01\x00", "tag longer"),
])
def test_malformed_input_raises_typed_error(data, reason):
    with pytest.raises(TlvError, match=reason):
        parse_tlv(data)


def test_depth_is_bounded():
    data = b"\x04\x00"
    for _ in range(20):
        data = encode_tlv(0x30, data)
    with pytest.raises(TlvError, match="deeper"):
        parse_tlv(data, max_depth=8)
    assert parse_tlv(data, max_depth=25)


def test_single_tlv_rejects_trailing_data():
    with pytest.raises(TlvError, match="exactly one"):
        parse_single_tlv(encode_tlv(0x80, b"") * 2)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_parse_only_raises_tlv_error(data):
    try:
        nodes = parse_tlv(data)
    except TlvError:
        return
    # whatever parsed must re-encode (minimal lengths) to data that parses to the same tree
    assert parse_tlv(b"".join(n.encode() for n in nodes)) == nodes


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0x01, 0x5F1F, 0x80, 0x9F8101]), st.binary(max_size=300)), max_size=5))
def test_encode_then_parse_round_trips(items):
    data = b"".join(encode_tlv(tag, value) for tag, value in items)
    assert list(iter_tlv(data)) == items
