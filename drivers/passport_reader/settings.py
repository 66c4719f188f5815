"""Plain settings of the reader driver. Field names match the `[reader]` config section, so the
app layer can build them with `ReaderSettings.from_mapping(section.model_dump())`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from drivers.passport_reader.errors import ReaderSettingsError


class Framing(str, Enum):
    CUTE = "cute"    # Access-IS, DESKO and other CUTE-style readers: FS STX lines ETX GS
    RTE = "rte"      # 3M RTE native: SOH len "OU" STX flag lines ETX BCC
    LINES = "lines"  # plain CR/LF lines grouped by an inter-line timeout


class RteBccScope(str, Enum):
    """Bytes the RTE block check character XORs. The public 3M integration manual describes the
    block layout but we could not confirm the BCC range from it, so it is configurable."""

    AFTER_SOH = "after_soh"  # length word .. ETX (the usual SOH-protocol convention)
    FROM_SOH = "from_soh"    # SOH .. ETX
    AFTER_STX = "after_stx"  # flag byte .. ETX


class RteLengthScope(str, Enum):
    """What the RTE 14-bit length word counts ("number of bytes, including the check character")."""

    BLOCK = "block"                # SOH .. BCC, the whole block
    AFTER_LENGTH = "after_length"  # device byte .. BCC
    UNCHECKED = "unchecked"        # ignore the length word


@dataclass(frozen=True)
class ReaderSettings:
    url: str
    framing: Framing = Framing.CUTE
    baudrate: int = 9600
    check_bcc: bool = True
    line_timeout_s: float = 0.3        # silence that ends a LINES document or an unfinished frame
    reconnect_min_s: float = 0.2
    reconnect_max_s: float = 5.0
    rte_bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    rte_length_scope: RteLengthScope = RteLengthScope.BLOCK
    max_frame_bytes: int = 512

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "framing", Framing(self.framing))
            object.__setattr__(self, "rte_bcc_scope", RteBccScope(self.rte_bcc_scope))
            object.__setattr__(self, "rte_length_scope", RteLengthScope(self.rte_length_scope))
        except ValueError as exc:
            raise ReaderSettingsError(str(exc)) from None
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise ReaderSettingsError("need 0 < reconnect_min_s <= reconnect_max_s")
        if self.line_timeout_s <= 0 or self.max_frame_bytes < 64:
            raise ReaderSettingsError("line_timeout_s must be > 0 and max_frame_bytes >= 64")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ReaderSettings:
        """Build from a config section's values; keys this driver does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
