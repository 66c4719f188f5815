"""Light parsing of the optional data groups a gate may show an officer: DG7 (signature image),
DG11 (additional personal details) and DG12 (additional document details), ICAO 9303-10 4.7.
Text fields are kept as UTF-8 strings keyed by name; unknown tags are ignored, never trusted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from firmware_app.emrtd.errors import LdsFormatError
from firmware_app.emrtd.lds.common import parse_template, require
from firmware_app.emrtd.tlv import Tlv

DG11_FIELDS = {
    0x5F0E: "full_name", 0x5F10: "personal_number", 0x5F2B: "full_date_of_birth",
    0x5F11: "place_of_birth", 0x5F42: "address", 0x5F12: "telephone", 0x5F13: "profession",
    0x5F14: "title", 0x5F15: "personal_summary", 0x5F18: "custody_information",
}
DG12_FIELDS = {
    0x5F19: "issuing_authority", 0x5F26: "date_of_issue", 0x5F1B: "endorsements",
    0x5F1C: "tax_or_exit_requirements", 0x5F55: "personalization_time", 0x5F56: "personalization_device",
}
OTHER_NAMES_TEMPLATE = 0xA0
OTHER_NAME_TAG = 0x0F
MAX_IMAGES = 4


@dataclass(frozen=True)
class TextDataGroup:
    number: int
    fields: dict[str, str]
    other_names: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:  # personal data: names only, never values
        return f"DG{self.number}(fields={sorted(self.fields)})"


@dataclass(frozen=True)
class Dg7:
    signature_images: tuple[bytes, ...]

    def __repr__(self) -> str:
        return f"Dg7({len(self.signature_images)} images)"


def _text(node: Tlv, file_name: str) -> str:
    try:
        return node.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LdsFormatError(file_name, f"tag {node.tag:X} is not UTF-8 text") from exc


def _text_fields(root: Tlv, names: dict[int, str], file_name: str) -> dict[str, str]:
    require(root, 0x5C, file_name)  # the tag list is mandatory
    return {names[c.tag]: _text(c, file_name) for c in root.children if c.tag in names}


def parse_dg11(data: bytes) -> TextDataGroup:
    root = parse_template(data, 0x6B, "DG11", max_depth=3)
    others = root.find(OTHER_NAMES_TEMPLATE)
    other_names = tuple(_text(c, "DG11") for c in others.find_all(OTHER_NAME_TAG)) if others else ()
    return TextDataGroup(11, _text_fields(root, DG11_FIELDS, "DG11"), other_names)


def parse_dg12(data: bytes) -> TextDataGroup:
    root = parse_template(data, 0x6C, "DG12", max_depth=3)
    return TextDataGroup(12, _text_fields(root, DG12_FIELDS, "DG12"))


def parse_dg7(data: bytes) -> Dg7:
    root = parse_template(data, 0x67, "DG7", max_depth=2)
    count = require(root, 0x02, "DG7").value
    images = tuple(c.value for c in root.find_all(0x5F43))
    if len(count) != 1 or count[0] != len(images) or len(images) > MAX_IMAGES:
        raise LdsFormatError("DG7", "signature image count is inconsistent")
    return Dg7(images)
