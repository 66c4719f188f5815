"""Facial records inside DG2 biometric data blocks.

ISO/IEC 19794-5:2005 binary record ("FAC\\0" "010\\0"), the format of nearly every passport, and
ISO/IEC 39794-5 tagged (BER) records used by LDS 2-era documents. Only what a gate needs is kept:
the image bytes, their format and the declared size. The image format is decided from the image's
own magic bytes, not from the header's claim.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from firmware_app.emrtd.errors import LdsFormatError, LdsUnsupported
from firmware_app.emrtd.lds.common import file_errors
from firmware_app.emrtd.tlv import Tlv, encode_tlv, parse_tlv

FILE = "DG2"
ISO19794_MAGIC = b"FAC\x00"
ISO19794_VERSION = b"010\x00"
GENERAL_HEADER = struct.Struct(">4s4sIH")  # magic, version, record length, image count
FACIAL_HEADER = struct.Struct(">IH")  # block length, feature-point count (then 14 more bytes)
FACIAL_HEADER_SIZE = 20
FEATURE_POINT_SIZE = 8
IMAGE_INFO = struct.Struct(">BBHHBBHH")  # type, data type, width, height, colour, source, device, quality
MAX_39794_DEPTH = 16


class ImageFormat(Enum):
    JPEG = "jpeg"
    JPEG2000 = "jpeg2000"


class RecordStandard(Enum):
    ISO_19794_5 = "ISO/IEC 19794-5"
    ISO_39794_5 = "ISO/IEC 39794-5"


@dataclass(frozen=True)
class FaceImage:
    standard: RecordStandard
    image_format: ImageFormat
    image: bytes
    width: int | None
    height: int | None

    def __repr__(self) -> str:  # biometric data: never print the bytes
        return f"FaceImage({self.standard.value}, {self.image_format.value}, {len(self.image)} bytes)"


def sniff_format(image: bytes) -> ImageFormat:
    if image.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if image.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ")):
        return ImageFormat.JPEG2000
    raise LdsUnsupported(FILE, "portrait is neither JPEG nor JPEG 2000")


def parse_iso19794(record: bytes) -> FaceImage:
    if len(record) < GENERAL_HEADER.size:
        raise LdsFormatError(FILE, "19794-5 record shorter than its header")
    magic, version, length, count = GENERAL_HEADER.unpack_from(record)
    if magic != ISO19794_MAGIC:
        raise LdsFormatError(FILE, "19794-5 record lacks FAC magic")
    if version != ISO19794_VERSION:
        raise LdsUnsupported(FILE, f"19794-5 version {version!r} (only 010 supported)")
    if length != len(record) or count < 1:
        raise LdsFormatError(FILE, "19794-5 record length or image count is inconsistent")
    return _parse_facial_block(record, GENERAL_HEADER.size)


def _parse_facial_block(record: bytes, start: int) -> FaceImage:
    if start + FACIAL_HEADER_SIZE > len(record):
        raise LdsFormatError(FILE, "19794-5 facial header truncated")
    block_length, points = FACIAL_HEADER.unpack_from(record, start)
    info_at = start + FACIAL_HEADER_SIZE + points * FEATURE_POINT_SIZE
    image_at = info_at + IMAGE_INFO.size
    end = start + block_length
    if block_length < FACIAL_HEADER_SIZE + IMAGE_INFO.size or image_at > end or end > len(record):
        raise LdsFormatError(FILE, "19794-5 facial block length is inconsistent")
    _, _, width, height, *_ = IMAGE_INFO.unpack_from(record, info_at)
    image = bytes(record[image_at:end])
    return FaceImage(RecordStandard.ISO_19794_5, sniff_format(image), image, width, height)


def parse_iso39794(block: bytes) -> FaceImage:
    """Find the first 2D image representation in a 39794-5 FaceImageDataBlock ([APPLICATION 5])."""
    with file_errors(FILE):
        nodes = parse_tlv(block, max_depth=MAX_39794_DEPTH)
    face_block = _find_face_block(nodes)
    representations = _child(face_block, 0xA1, "representation blocks")
    for representation in representations.children:
        image = _image_of_representation(representation)
        if image is not None:
            return FaceImage(RecordStandard.ISO_39794_5, sniff_format(image), image, None, None)
    raise LdsFormatError(FILE, "39794-5 block holds no 2D image representation")


def _find_face_block(nodes: list[Tlv]) -> Tlv:
    """The 0x65 face block may sit directly in the BDB or inside an A1 wrapper."""
    for node in nodes:
        if node.tag == 0x65:
            return node
        if node.tag == 0xA1 and node.find(0x65) is not None:
            return node.require(0x65)
    raise LdsFormatError(FILE, "39794-5 block lacks the face image data block (tag 65)")


def _image_of_representation(representation: Tlv) -> bytes | None:
    # RepresentationBlock: [1] ImageRepresentation -> [0] base -> [0] 2D block -> [0] image data
    path = (0xA1, 0xA0, 0xA0, 0x80)
    node: Tlv | None = representation
    for tag in path:
        node = node.find(tag) if node is not None else None
    return node.value if node is not None else None


def _child(node: Tlv, tag: int, what: str) -> Tlv:
    child = node.find(tag)
    if child is None:
        raise LdsFormatError(FILE, f"39794-5 {what} missing")
    return child


def encode_iso19794(image: bytes, width: int, height: int, jpeg2000: bool = False) -> bytes:
    """Build a 19794-5:2005 record with one frontal image (used by the test passport factory)."""
    info = IMAGE_INFO.pack(1, 1 if jpeg2000 else 0, width, height, 1, 2, 0, 0)
    block_length = FACIAL_HEADER_SIZE + len(info) + len(image)
    facial = FACIAL_HEADER.pack(block_length, 0) + bytes(14) + info + image
    total = GENERAL_HEADER.size + len(facial)
    return GENERAL_HEADER.pack(ISO19794_MAGIC, ISO19794_VERSION, total, 1) + facial


def encode_iso39794(image: bytes, format_code: int = 1) -> bytes:
    """A 39794-5 FaceImageDataBlock ([APPLICATION 5]) with one 2D image (test passport factory)."""
    image_info = encode_tlv(0xA1, encode_tlv(0xA0, encode_tlv(0x80, bytes([format_code]))))
    image_2d = encode_tlv(0xA0, encode_tlv(0x80, image) + image_info)
    representation = encode_tlv(0x30, encode_tlv(0x80, b"\x01") + encode_tlv(0xA1, encode_tlv(0xA0, image_2d)))
    version = encode_tlv(0xA0, encode_tlv(0x80, b"\x03") + encode_tlv(0x81, b"\x00"))
    return encode_tlv(0xA1, encode_tlv(0x65, version + encode_tlv(0xA1, representation)))
