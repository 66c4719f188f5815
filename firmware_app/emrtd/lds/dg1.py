"""DG1: the MRZ as stored in the chip, and its comparison with the printed MRZ."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from enum import Enum

from firmware_app.emrtd.errors import LdsFormatError
from firmware_app.emrtd.lds.common import parse_template, require
from firmware_app.emrtd.tlv import encode_tlv

FILE = "DG1"
DG1_TAG = 0x61
MRZ_TAG = 0x5F1F
# total MRZ length -> line length (TD1: 3x30, TD2: 2x36, TD3: 2x44)
LINE_LENGTH_BY_TOTAL = {90: 30, 72: 36, 88: 44}
MRZ_CHARS = re.compile(rb"^[A-Z0-9<]+$")


class Dg1Check(Enum):
    MATCH = "MATCH"
    DG1_MISMATCH = "DG1_MISMATCH"


@dataclass(frozen=True)
class Dg1:
    lines: tuple[str, ...]

    def __repr__(self) -> str:  # personal data: keep it out of accidental logs
        return f"Dg1(<{len(self.lines)} MRZ lines>)"


def parse_dg1(data: bytes) -> Dg1:
    root = parse_template(data, DG1_TAG, FILE)
    mrz = require(root, MRZ_TAG, FILE).value
    line_length = LINE_LENGTH_BY_TOTAL.get(len(mrz))
    if line_length is None:
        raise LdsFormatError(FILE, f"MRZ of {len(mrz)} characters is no ICAO format")
    if not MRZ_CHARS.fullmatch(mrz):  # match() would let '$' accept a trailing newline
        raise LdsFormatError(FILE, "MRZ holds characters outside A-Z 0-9 <")
    text = mrz.decode("ascii")
    return Dg1(tuple(text[i:i + line_length] for i in range(0, len(text), line_length)))


def encode_dg1(lines: list[str]) -> bytes:
    return encode_tlv(DG1_TAG, encode_tlv(MRZ_TAG, "".join(lines).encode("ascii")))


def compare_with_printed(dg1: Dg1, printed_lines: list[str] | tuple[str, ...]) -> Dg1Check:
    """DG1 must equal the MRZ read from the page (after OCR repair); anything else is a mismatch."""
    printed = "".join(line.strip() for line in printed_lines).encode("ascii", "replace")
    chip = "".join(dg1.lines).encode("ascii")
    return Dg1Check.MATCH if hmac.compare_digest(printed, chip) else Dg1Check.DG1_MISMATCH
