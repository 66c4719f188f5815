"""ATR parsing (ISO/IEC 7816-3/-4): historical bytes and the card-capabilities extended-length bit."""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DriverIOError

CAPABILITIES_TAG = 0x7  # compact-TLV tag 7: card capabilities (three bytes)
EXTENDED_LENGTH_BIT = 0x40  # third capability byte, b7: extended Lc and Le fields


class AtrError(DriverIOError):
    """The ATR is malformed."""


@dataclass(frozen=True)
class AtrInfo:
    historical: bytes
    extended_length: bool | None  # None: the ATR does not say


def parse_atr(atr: bytes) -> AtrInfo:
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise AtrError("ATR does not start with TS 3B/3F")
    count, position, indicator = atr[1] & 0x0F, 2, atr[1] >> 4
    while indicator:
        present = bin(indicator & 0x0F).count("1")
        td_index = position + present - 1 if indicator & 0x8 else None
        position += present
        if position > len(atr):
            raise AtrError("ATR interface bytes are truncated")
        indicator = atr[td_index] >> 4 if td_index is not None else 0
    historical = atr[position:position + count]
    if len(historical) != count:
        raise AtrError("ATR historical bytes are truncated")
    return AtrInfo(historical, _extended_length(historical))


def _extended_length(historical: bytes) -> bool | None:
    if not historical or historical[0] != 0x80:
        return None  # only the compact-TLV format (category 80) is understood
    position = 1
    while position < len(historical):
        tag, length = historical[position] >> 4, historical[position] & 0x0F
        value = historical[position + 1:position + 1 + length]
        if tag == CAPABILITIES_TAG and len(value) >= 3:
            return bool(value[2] & EXTENDED_LENGTH_BIT)
        position += 1 + length
    return None
