"""Helpers shared by the data-group parsers: bounded unwrapping of the outer file tag.

The TLV grammar itself lives in firmware_app.emrtd.tlv (one parser for the whole chip stack);
here we only turn its TlvError and asn1crypto's loose exceptions into LdsFormatError.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from firmware_app.emrtd.errors import LdsFormatError, TlvError
from firmware_app.emrtd.tlv import Tlv, parse_single_tlv, read_header

MAX_FILE_BYTES = 1 << 20  # far above any real LDS file (DG2 is usually 15-30 KB)

# asn1crypto reports malformed input through these built-in exceptions.
ASN1_DECODE_ERRORS = (
    ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError,
    AttributeError,  # asn1crypto raises it for some malformed values (seen while fuzzing)
)


@contextmanager
def file_errors(file_name: str) -> Iterator[None]:
    """Re-raise TLV/ASN.1 decoding failures as LdsFormatError naming the file."""
    try:
        yield
    except LdsFormatError:
        raise
    except TlvError as exc:
        raise LdsFormatError(file_name, f"bad TLV: {exc}") from exc
    except ASN1_DECODE_ERRORS as exc:
        raise LdsFormatError(file_name, f"bad ASN.1: {type(exc).__name__}") from exc


def unwrap(data: bytes, tag: int, file_name: str) -> bytes:
    """Value of the single outer TLV of a file, checking the tag and that nothing trails it."""
    if len(data) > MAX_FILE_BYTES:
        raise LdsFormatError(file_name, f"{len(data)} bytes exceeds {MAX_FILE_BYTES}")
    with file_errors(file_name):
        header = read_header(data)
    if header.tag != tag:
        raise LdsFormatError(file_name, f"outer tag {header.tag:X}, expected {tag:X}")
    if header.total_size != len(data):
        raise LdsFormatError(file_name, f"declares {header.total_size} bytes, file has {len(data)}")
    return bytes(data[header.header_size:])


def parse_template(data: bytes, tag: int, file_name: str, max_depth: int = 8) -> Tlv:
    """Parse a whole file that is one constructed TLV template."""
    if len(data) > MAX_FILE_BYTES:
        raise LdsFormatError(file_name, f"{len(data)} bytes exceeds {MAX_FILE_BYTES}")
    with file_errors(file_name):
        return parse_single_tlv(data, max_depth=max_depth, expected_tag=tag)


def require(node: Tlv, tag: int, file_name: str) -> Tlv:
    child = node.find(tag)
    if child is None:
        raise LdsFormatError(file_name, f"tag {node.tag:X} lacks required tag {tag:X}")
    return child
