"""Identity of the eMRTD application's files in one place: names, file ids, size bounds, outer tags,
and EF.COM's data-group list (the LDS parsers and the reader both take them from here)."""
from __future__ import annotations

import enum

from firmware_app.emrtd.errors import TlvError
from firmware_app.emrtd.tlv import parse_single_tlv

EMRTD_AID = bytes.fromhex("A0000002471001")
SFI_CARD_ACCESS = 0x1C
SFI_ATR_INFO = 0x01


class LdsFile(str, enum.Enum):
    """Value is the label used in results and JSON; `fid` is the file identifier."""
    COM = "EF.COM"
    SOD = "EF.SOD"
    DG1 = "DG1"
    DG2 = "DG2"
    DG3 = "DG3"
    DG4 = "DG4"
    DG5 = "DG5"
    DG6 = "DG6"
    DG7 = "DG7"
    DG8 = "DG8"
    DG9 = "DG9"
    DG10 = "DG10"
    DG11 = "DG11"
    DG12 = "DG12"
    DG13 = "DG13"
    DG14 = "DG14"
    DG15 = "DG15"
    DG16 = "DG16"

    @property
    def fid(self) -> int:
        if self is LdsFile.COM:
            return 0x011E
        if self is LdsFile.SOD:
            return 0x011D
        return 0x0100 + int(self.value[2:])

    @property
    def max_size(self) -> int:
        """The largest size this file may announce; a bigger claim is refused before it is read."""
        return MAX_SIZES.get(self, DEFAULT_MAX_SIZE)


DEFAULT_MAX_SIZE = 1 << 20  # images (DG2 portrait, DG7 signature) and other groups
# Far above genuine documents' (EF.COM < 100 B, SOD 2-8 KB, DG14 with a 4096-bit DH key < 3 KB,
# DG15 with an 8192-bit RSA key ~1.1 KB): a 65 KB DG14 is refused unread.
MAX_SIZES = {LdsFile.COM: 1024, LdsFile.SOD: 64 * 1024, LdsFile.DG1: 1024, LdsFile.DG11: 16 * 1024,
             LdsFile.DG12: 16 * 1024, LdsFile.DG14: 16 * 1024, LdsFile.DG15: 16 * 1024}


# Outer tags of EF.COM, EF.SOD and the data groups (ICAO 9303-10 table 34), by data-group number
DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}
TAG_TO_DG: dict[int, int] = {tag: number for number, tag in DG_TAGS.items()}
COM_TAG, SOD_TAG = 0x60, 0x77
TAG_TAG_LIST = 0x5C  # EF.COM's list of the data groups present


def listed_data_groups(ef_com: bytes) -> list[LdsFile]:
    """Data groups EF.COM says are present (unknown tags are ignored, not trusted)."""
    root = parse_single_tlv(ef_com, max_depth=2, expected_tag=COM_TAG)
    tag_list = root.find(TAG_TAG_LIST)
    if tag_list is None:
        raise TlvError("EF.COM has no data-group tag list (5C)")
    return [LdsFile(f"DG{TAG_TO_DG[tag]}") for tag in dict.fromkeys(tag_list.value) if tag in TAG_TO_DG]
