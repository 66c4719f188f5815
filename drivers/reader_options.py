"""The passport reader's option enums: the one definition the driver's settings and the `[reader]`
config section both use.

Import-free and outside drivers/passport_reader on purpose: importing a submodule runs its package's
`__init__`, and the config model must name these options without loading the reader driver.
"""
from __future__ import annotations

from enum import Enum
from typing import Literal


class Framing(str, Enum):
    CUTE = "cute"    # Access-IS, DESKO and other CUTE-style readers: [open] STX lines ETX [close]
    RTE = "rte"      # 3M RTE native: SOH len device type STX text ETX [BCC]
    LINES = "lines"  # plain CR/LF lines grouped by an inter-line timeout


class RteBccScope(str, Enum):
    """Bytes the RTE block check character XORs (3M: from the first length byte through ETX)."""

    AFTER_SOH = "after_soh"  # length word .. ETX (3M's documented range)
    FROM_SOH = "from_soh"    # SOH .. ETX
    AFTER_STX = "after_stx"  # flag byte .. ETX


class RteLengthScope(str, Enum):
    """What the RTE 14-bit length word counts. 3M: the device byte through the BCC."""

    AFTER_LENGTH = "after_length"  # device byte .. BCC (or .. ETX without a BCC), 3M RTE native
    BLOCK = "block"                # SOH .. BCC, the whole block
    UNCHECKED = "unchecked"        # ignore the length word; the block ends at ETX (+ BCC)


class RteMode(str, Enum):
    """3M RTE firmware modes. Only native sends every read unasked; interrupt and polled modes
    wait for an Enable command after each read, which this driver does not send."""

    NATIVE = "native"
    INTERRUPT = "interrupt"
    POLLED = "polled"


class CuteDelimiters(str, Enum):
    """What surrounds STX .. ETX in a CUTE/OCR frame (DESKO sets it per device)."""

    FS_GS = "fs_gs"      # indirect: FS STX .. ETX GS (Access-IS default)
    SO_SI = "so_si"      # indirect: SO STX .. ETX SI
    DIRECT = "direct"    # direct: STX .. ETX, nothing around it
    CUSTOM = "custom"    # cute_open / cute_close bytes


class Parity(str, Enum):
    NONE = "none"
    EVEN = "even"
    ODD = "odd"
    MARK = "mark"
    SPACE = "space"


# Serial line values the reader supports: the config section's field types, the driver's check.
ByteSize = Literal[7, 8]
StopBits = Literal[1, 1.5, 2]  # type: ignore[valid-type]  # pydantic checks the float; mypy's Literal cannot
