"""DG2: biometric information templates holding the facial image(s) (ICAO 9303-10, 4.7.2)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from firmware_app.emrtd.errors import LdsFormatError
from firmware_app.emrtd.lds.common import parse_template, require
from firmware_app.emrtd.lds.face_record import FaceImage, encode_iso19794, parse_iso19794, parse_iso39794
from firmware_app.emrtd.tlv import Tlv, encode_tlv

FILE = "DG2"
DG2_TAG = 0x75
GROUP_TEMPLATE_TAG = 0x7F61
INSTANCE_COUNT_TAG = 0x02
INFO_TEMPLATE_TAG = 0x7F60
HEADER_TEMPLATE_TAG = 0xA1
BDB_19794_TAG = 0x5F2E
BDB_39794_TAG = 0x7F2E
BIOMETRIC_TYPE_TAG = 0x81
FACE_TYPE = 0x02
MAX_TEMPLATES = 8  # ICAO stores one portrait; a few more is tolerated, hundreds is hostile
MAX_PIXELS = 16_000_000
MAX_DEPTH = 20  # 4 DG2 levels + up to 16 inside a 39794-5 block


@dataclass(frozen=True)
class Dg2:
    faces: tuple[FaceImage, ...]

    @property
    def portrait(self) -> FaceImage:
        return self.faces[0]


def parse_dg2(data: bytes) -> Dg2:
    root = parse_template(data, DG2_TAG, FILE, max_depth=MAX_DEPTH)
    group = require(root, GROUP_TEMPLATE_TAG, FILE)
    declared = require(group, INSTANCE_COUNT_TAG, FILE).value
    templates = group.find_all(INFO_TEMPLATE_TAG)
    if len(declared) != 1 or declared[0] != len(templates) or not 1 <= len(templates) <= MAX_TEMPLATES:
        raise LdsFormatError(FILE, "biometric template count is inconsistent")
    return Dg2(tuple(_parse_template(t) for t in templates))


def _parse_template(template: Tlv) -> FaceImage:
    header = require(template, HEADER_TEMPLATE_TAG, FILE)
    kind = header.find(BIOMETRIC_TYPE_TAG)
    if kind is not None and kind.value not in (bytes([FACE_TYPE]), b"\x00\x00\x02"):
        raise LdsFormatError(FILE, "biometric template is not a facial image")
    legacy = template.find(BDB_19794_TAG)
    if legacy is not None:
        return parse_iso19794(legacy.value)
    tagged = template.find(BDB_39794_TAG)
    if tagged is not None:
        return parse_iso39794(tagged.value)
    raise LdsFormatError(FILE, "biometric template has no data block")


def decode_portrait(face: FaceImage) -> Any:
    """Decode the portrait with Pillow (JPEG and JPEG 2000); returns an RGB PIL image."""
    from PIL import Image  # Pillow only where images are decoded

    try:
        with Image.open(io.BytesIO(face.image)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise LdsFormatError(FILE, f"portrait of {img.width}x{img.height} pixels is too large")
            return img.convert("RGB")
    except LdsFormatError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise LdsFormatError(FILE, f"portrait cannot be decoded ({type(exc).__name__})") from exc


def encode_dg2(record: bytes, bdb_tag: int = BDB_19794_TAG) -> bytes:
    """Wrap one facial record into a DG2 file (used by the test passport factory)."""
    header = (
        encode_tlv(0x80, b"\x01\x01")
        + encode_tlv(BIOMETRIC_TYPE_TAG, bytes([FACE_TYPE]))
        + encode_tlv(0x87, b"\x01\x01")
        + encode_tlv(0x88, b"\x00\x08")
    )
    info = encode_tlv(HEADER_TEMPLATE_TAG, header) + encode_tlv(bdb_tag, record)
    group = encode_tlv(INSTANCE_COUNT_TAG, b"\x01") + encode_tlv(INFO_TEMPLATE_TAG, info)
    return encode_tlv(DG2_TAG, encode_tlv(GROUP_TEMPLATE_TAG, group))


def encode_dg2_jpeg(image: bytes, width: int, height: int, jpeg2000: bool = False) -> bytes:
    return encode_dg2(encode_iso19794(image, width, height, jpeg2000))
