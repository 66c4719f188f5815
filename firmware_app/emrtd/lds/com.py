"""EF.COM: LDS version, Unicode version and the list of data groups present."""
from __future__ import annotations

from dataclasses import dataclass

from firmware_app.emrtd.errors import LdsFormatError
from firmware_app.emrtd.files import COM_TAG, DG_TAGS, TAG_TAG_LIST, TAG_TO_DG
from firmware_app.emrtd.lds.common import parse_template, require
from firmware_app.emrtd.tlv import encode_tlv

FILE = "EF.COM"
LDS_VERSION_TAG = 0x5F01
UNICODE_VERSION_TAG = 0x5F36


@dataclass(frozen=True)
class ComFile:
    lds_version: str  # "0107" -> LDS 1.7
    unicode_version: str  # "040000" -> Unicode 4.0.0
    data_groups: tuple[int, ...]


def _digits(value: bytes, size: int, what: str) -> str:
    if len(value) != size or not value.isdigit():
        raise LdsFormatError(FILE, f"{what} must be {size} ASCII digits")
    return value.decode("ascii")


def parse_com(data: bytes) -> ComFile:
    root = parse_template(data, COM_TAG, FILE)
    lds = _digits(require(root, LDS_VERSION_TAG, FILE).value, 4, "LDS version")
    uni = _digits(require(root, UNICODE_VERSION_TAG, FILE).value, 6, "Unicode version")
    groups = []
    for tag in require(root, TAG_TAG_LIST, FILE).value:
        if tag not in TAG_TO_DG:
            raise LdsFormatError(FILE, f"unknown data-group tag {tag:02X}")
        groups.append(TAG_TO_DG[tag])
    if len(set(groups)) != len(groups):
        raise LdsFormatError(FILE, "data group listed twice")
    return ComFile(lds, uni, tuple(groups))


def encode_com(data_groups: list[int], lds_version: str = "0107", unicode_version: str = "040000") -> bytes:
    body = (
        encode_tlv(LDS_VERSION_TAG, lds_version.encode("ascii"))
        + encode_tlv(UNICODE_VERSION_TAG, unicode_version.encode("ascii"))
        + encode_tlv(TAG_TAG_LIST, bytes(DG_TAGS[n] for n in data_groups))
    )
    return encode_tlv(COM_TAG, body)
