"""Plain settings of the reader driver. Field names match the `[reader]` config section, so the
app layer can build them with `ReaderSettings.from_mapping(section.model_dump())`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from drivers.errors import ReaderSettingsError


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


CUTE_PRESETS = {CuteDelimiters.FS_GS: (0x1C, 0x1D), CuteDelimiters.SO_SI: (0x0E, 0x0F),
                CuteDelimiters.DIRECT: (None, None)}
UNSUPPORTED_RTE_MODES = {
    RteMode.INTERRUPT: "3M RTE interrupt mode needs an Enable command after each read, which this "
                       "driver does not send; switch the reader to RTE native (3M test card)",
    RteMode.POLLED: "3M RTE polled mode needs a poll/Enable command for each read, which this "
                    "driver does not send; switch the reader to RTE native (3M test card)",
}
_DELIMITER_BYTES = frozenset(range(0x20)) - {0x02, 0x03, 0x0A, 0x0D}


@dataclass(frozen=True)
class ReaderSettings:
    url: str
    framing: Framing = Framing.CUTE
    baudrate: int = 9600
    bytesize: int = 8
    parity: Parity = Parity.NONE
    stopbits: float = 1
    check_bcc: bool = True
    line_timeout_s: float = 0.3        # silence that ends a LINES document or an unfinished frame
    reconnect_min_s: float = 0.2
    reconnect_max_s: float = 5.0
    rte_mode: RteMode = RteMode.NATIVE
    rte_use_bcc: bool = True           # 3M "UseBCC": a BCC byte follows ETX
    rte_bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    rte_length_scope: RteLengthScope = RteLengthScope.AFTER_LENGTH
    cute_delimiters: CuteDelimiters = CuteDelimiters.FS_GS
    cute_open: int | None = None       # CUSTOM only: the byte before STX (None: none)
    cute_close: int | None = None      # CUSTOM only: the byte after ETX (None: none)
    max_frame_bytes: int = 512

    def __post_init__(self) -> None:
        self._coerce_enums()
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise ReaderSettingsError("need 0 < reconnect_min_s <= reconnect_max_s")
        if self.line_timeout_s <= 0 or self.max_frame_bytes < 64:
            raise ReaderSettingsError("line_timeout_s must be > 0 and max_frame_bytes >= 64")
        if self.bytesize not in (7, 8) or self.stopbits not in (1, 1.5, 2):
            raise ReaderSettingsError("bytesize must be 7 or 8 and stopbits 1, 1.5 or 2")
        if self.framing is Framing.RTE and self.rte_mode in UNSUPPORTED_RTE_MODES:
            raise ReaderSettingsError(UNSUPPORTED_RTE_MODES[self.rte_mode])
        self._check_cute()

    def _coerce_enums(self) -> None:
        try:
            for name, kind in (("framing", Framing), ("parity", Parity), ("rte_mode", RteMode),
                               ("rte_bcc_scope", RteBccScope), ("rte_length_scope", RteLengthScope),
                               ("cute_delimiters", CuteDelimiters)):
                object.__setattr__(self, name, kind(getattr(self, name)))
        except ValueError as exc:
            raise ReaderSettingsError(str(exc)) from None

    def _check_cute(self) -> None:
        custom = self.cute_delimiters is CuteDelimiters.CUSTOM
        given = [b for b in (self.cute_open, self.cute_close) if b is not None]
        if given and not custom:
            raise ReaderSettingsError("cute_open/cute_close are only used with cute_delimiters = 'custom'")
        if any(b not in _DELIMITER_BYTES for b in given):
            raise ReaderSettingsError("cute_open/cute_close must be control bytes other than STX, ETX, CR, LF")
        if custom and self.cute_open is not None and self.cute_open == self.cute_close:
            raise ReaderSettingsError("cute_open and cute_close must differ")

    @property
    def cute_bytes(self) -> tuple[int | None, int | None]:
        """(open, close) bytes around STX .. ETX; None where the framing has none."""
        if self.cute_delimiters is CuteDelimiters.CUSTOM:
            return self.cute_open, self.cute_close
        return CUTE_PRESETS[self.cute_delimiters]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ReaderSettings:
        """Build from a config section's values; keys this driver does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
