"""Elementary files of the eMRTD application: names, file ids, and EF.COM's data-group list."""
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


# LDS data-group tags as listed in EF.COM's tag list (9303-10 table 'LDS1 data groups')
DG_TAGS = {
    0x61: LdsFile.DG1, 0x75: LdsFile.DG2, 0x63: LdsFile.DG3, 0x76: LdsFile.DG4, 0x65: LdsFile.DG5,
    0x66: LdsFile.DG6, 0x67: LdsFile.DG7, 0x68: LdsFile.DG8, 0x69: LdsFile.DG9, 0x6A: LdsFile.DG10,
    0x6B: LdsFile.DG11, 0x6C: LdsFile.DG12, 0x6D: LdsFile.DG13, 0x6E: LdsFile.DG14, 0x6F: LdsFile.DG15,
    0x70: LdsFile.DG16,
}
TAG_COM, TAG_TAG_LIST = 0x60, 0x5C


def listed_data_groups(ef_com: bytes) -> list[LdsFile]:
    """Data groups EF.COM says are present (unknown tags are ignored, not trusted)."""
    root = parse_single_tlv(ef_com, max_depth=2, expected_tag=TAG_COM)
    tag_list = root.find(TAG_TAG_LIST)
    if tag_list is None:
        raise TlvError("EF.COM has no data-group tag list (5C)")
    return [DG_TAGS[tag] for tag in dict.fromkeys(tag_list.value) if tag in DG_TAGS]
