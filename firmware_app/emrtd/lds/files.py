"""LDS file identities: data-group numbers, their outer tags and names (ICAO 9303-10 table 34)."""
from __future__ import annotations

DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}
TAG_TO_DG: dict[int, int] = {tag: number for number, tag in DG_TAGS.items()}
COM_TAG = 0x60
SOD_TAG = 0x77


def dg_name(number: int) -> str:
    return f"DG{number}"
