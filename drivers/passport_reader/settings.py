"""Plain settings of the reader driver. Field names match the `[reader]` config section, so the
app layer can build them with `ReaderSettings.from_mapping(section.model_dump())`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, get_args

from drivers.errors import ReaderSettingsError

# The options live in an import-free module so the config model can share them; re-exported here.
from drivers.reader_options import ByteSize, StopBits
from drivers.reader_options import CuteDelimiters as CuteDelimiters
from drivers.reader_options import Framing as Framing
from drivers.reader_options import Parity as Parity
from drivers.reader_options import RteBccScope as RteBccScope
from drivers.reader_options import RteLengthScope as RteLengthScope
from drivers.reader_options import RteMode as RteMode

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
        if self.bytesize not in get_args(ByteSize) or self.stopbits not in get_args(StopBits):
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
