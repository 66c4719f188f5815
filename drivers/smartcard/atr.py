"""ATR parsing (ISO/IEC 7816-3/-4): historical bytes and the card-capabilities extended-length bit.

Contactless cards get a pseudo-ATR from the reader (PC/SC part 3): 3B 8n 80 01, the historical
bytes, TCK. For ISO 14443 Type A they are the ATS historical bytes (compact-TLV); for Type B they
are the ATQB application data (4 bytes), protocol info (3) and MBLI/CID (1): 8 bytes that are not
compact-TLV, so they say nothing about extended length however they happen to parse.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import AtrError

CAPABILITIES_TAG = 0x7  # compact-TLV tag 7: card capabilities (three bytes)
EXTENDED_LENGTH_BIT = 0x40  # third capability byte, b7: extended Lc and Le fields
COMPACT_TLV_CATEGORY = 0x80
TYPE_B_HISTORICAL = 8


@dataclass(frozen=True)
class AtrInfo:
    historical: bytes
    extended_length: bool | None  # None: the ATR does not say
    type_b: bool = False          # a contactless pseudo-ATR carrying ATQB data


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
    if is_type_b_pseudo_atr(atr, historical):
        return AtrInfo(historical, None, type_b=True)
    return AtrInfo(historical, _extended_length(historical))


def is_pseudo_atr(atr: bytes) -> bool:
    """PC/SC part 3 contactless pseudo-ATR: TD1 = 80 (T=0 indicated, TD2 follows), TD2 = 01."""
    return len(atr) >= 4 and atr[0] == 0x3B and atr[1] >> 4 == 0x8 and atr[2] == 0x80 and atr[3] == 0x01


def is_type_b_pseudo_atr(atr: bytes, historical: bytes) -> bool:
    """8 historical bytes that are not a well-formed compact-TLV list: ATQB data of a Type B card.
    (A Type A card's ATS bytes start with the category 80 and fill the list exactly.)"""
    if not is_pseudo_atr(atr) or len(historical) != TYPE_B_HISTORICAL:
        return False
    return _compact_tlv(historical, strict=True) is None


def _compact_tlv(historical: bytes, strict: bool) -> dict[int, bytes] | None:
    """Tag -> value of a category-80 compact-TLV list. Strict: None unless the list fills the bytes
    exactly; lenient: the objects before the first malformed one."""
    if not historical or historical[0] != COMPACT_TLV_CATEGORY:
        return None
    objects: dict[int, bytes] = {}
    position = 1
    while position < len(historical):
        tag, length = historical[position] >> 4, historical[position] & 0x0F
        value = historical[position + 1:position + 1 + length]
        if tag == 0 or len(value) != length:
            return None if strict else objects
        objects.setdefault(tag, value)
        position += 1 + length
    return objects


def _extended_length(historical: bytes) -> bool | None:
    capabilities = (_compact_tlv(historical, strict=False) or {}).get(CAPABILITIES_TAG)
    if capabilities is None or len(capabilities) < 3:
        return None  # only the compact-TLV format (category 80) is understood
    return bool(capabilities[2] & EXTENDED_LENGTH_BIT)
