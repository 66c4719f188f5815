"""Bounded BER-TLV (ISO/IEC 7816-4 / X.690 subset used by ICAO 9303).

Chip data is hostile: every tag and length is bounded, every length is checked against the bytes
actually present, nesting depth is limited, and indefinite lengths are refused. Errors are TlvError.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from firmware_app.emrtd.errors import TlvError

MAX_TAG_BYTES = 3  # ICAO uses at most 2 (e.g. 5F1F, 7F61); 3 leaves headroom
MAX_LENGTH_BYTES = 4  # 0x84 + 4 bytes: far beyond any file a chip can hold
DEFAULT_MAX_DEPTH = 8


@dataclass(frozen=True)
class TlvHeader:
    tag: int
    length: int
    header_size: int

    @property
    def total_size(self) -> int:
        return self.header_size + self.length


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    children: tuple[Tlv, ...] = field(default=())

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def find(self, tag: int) -> Tlv | None:
        """First direct child with this tag, or None."""
        return next((c for c in self.children if c.tag == tag), None)

    def find_all(self, tag: int) -> list[Tlv]:
        return [c for c in self.children if c.tag == tag]

    def require(self, tag: int) -> Tlv:
        child = self.find(tag)
        if child is None:
            raise TlvError(f"tag {self.tag:X} has no child {tag:X}")
        return child

    def encode(self) -> bytes:
        return encode_tlv(self.tag, self.value)


def is_constructed(tag: int) -> bool:
    return bool(_tag_first_byte(tag) & 0x20)


def _tag_first_byte(tag: int) -> int:
    return tag >> (8 * ((tag.bit_length() - 1) // 8)) if tag > 0xFF else tag


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"missing tag at offset {pos}")
    first = data[pos]
    tag, pos = first, pos + 1
    if first & 0x1F != 0x1F:
        return tag, pos
    for _count in range(1, MAX_TAG_BYTES):
        if pos >= len(data):
            raise TlvError("truncated multi-byte tag")
        byte = data[pos]
        tag, pos = (tag << 8) | byte, pos + 1
        if not byte & 0x80:
            return tag, pos
    raise TlvError(f"tag longer than {MAX_TAG_BYTES} bytes")


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"missing length at offset {pos}")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TlvError(f"length field of {count} bytes is too long")
    if pos + count > len(data):
        raise TlvError("truncated length field")
    return int.from_bytes(data[pos:pos + count], "big"), pos + count


def read_header(data: bytes, offset: int = 0) -> TlvHeader:
    """Tag and length at offset, without requiring the value to be present (e.g. a file's first bytes)."""
    tag, pos = _read_tag(data, offset)
    length, pos = _read_length(data, pos)
    return TlvHeader(tag, length, pos - offset)


def _read_one(data: bytes, pos: int) -> tuple[int, bytes, int]:
    header = read_header(data, pos)
    start = pos + header.header_size
    end = start + header.length
    if end > len(data):
        raise TlvError(f"tag {header.tag:X} declares {header.length} bytes, only {len(data) - start} present")
    return header.tag, bytes(data[start:end]), end


def iter_tlv(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (tag, value) for each top-level TLV; the data must be exactly a sequence of TLVs."""
    pos = 0
    while pos < len(data):
        tag, value, pos = _read_one(data, pos)
        yield tag, value


def parse_tlv(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> list[Tlv]:
    """Parse all top-level TLVs; constructed ones are parsed recursively up to max_depth levels."""
    if max_depth < 1:
        raise TlvError("TLV nesting deeper than allowed")
    nodes = []
    for tag, value in iter_tlv(data):
        children = tuple(parse_tlv(value, max_depth - 1)) if is_constructed(tag) and value else ()
        nodes.append(Tlv(tag, value, children))
    return nodes


def parse_single_tlv(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH, expected_tag: int | None = None) -> Tlv:
    """Parse data that must hold exactly one TLV (optionally with a given tag)."""
    nodes = parse_tlv(data, max_depth)
    if len(nodes) != 1:
        raise TlvError(f"expected exactly one TLV, found {len(nodes)}")
    if expected_tag is not None and nodes[0].tag != expected_tag:
        raise TlvError(f"expected tag {expected_tag:X}, found {nodes[0].tag:X}")
    return nodes[0]


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise TlvError("negative tag")
    size = max(1, (tag.bit_length() + 7) // 8)
    if size > MAX_TAG_BYTES:
        raise TlvError(f"tag {tag:X} is too long")
    return tag.to_bytes(size, "big")


def encode_length(length: int) -> bytes:
    if length < 0:
        raise TlvError("negative length")
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    if size > MAX_LENGTH_BYTES:
        raise TlvError(f"length {length} is too large")
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)
