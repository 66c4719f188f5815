"""PC/SC part 10 reader properties: the reader's largest APDU (dwMaxAPDUDataSize).

Extended-length APDUs need the reader as well as the card: some readers (firmware) exchange short
APDUs only. pcsc-lite readers announce FEATURE_GET_TLV_PROPERTIES in the answer to
CM_IOCTL_GET_FEATURE_REQUEST (tag 1 byte, length 1 byte, control code 4 bytes big-endian); that
control code returns properties as tag, length, little-endian value. Readers without either
answer "unsupported": the size is then unknown (None) and the card's own claim decides.
"""
from __future__ import annotations

FEATURE_GET_TLV_PROPERTIES = 0x12
PROPERTY_MAX_APDU_DATA_SIZE = 0x0A
MAX_CONTROL_ANSWER = 1024   # a feature or property list is tens of bytes; more is not believed
SHORT_APDU_DATA = 256       # the most a short APDU carries (Ne = 256)


def parse_features(answer: bytes) -> dict[int, int]:
    """Feature tag -> control code from the GET_FEATURE_REQUEST answer; malformed entries end it."""
    features, position = {}, 0
    answer = answer[:MAX_CONTROL_ANSWER]
    while position + 2 <= len(answer):
        tag, length = answer[position], answer[position + 1]
        value = answer[position + 2:position + 2 + length]
        if length != 4 or len(value) != 4:
            break
        features[tag] = int.from_bytes(value, "big")
        position += 2 + length
    return features


def parse_properties(answer: bytes) -> dict[int, int | bytes]:
    """Property tag -> value (integers little-endian up to 4 bytes; longer values as bytes)."""
    properties, position = {}, 0
    answer = answer[:MAX_CONTROL_ANSWER]
    while position + 2 <= len(answer):
        tag, length = answer[position], answer[position + 1]
        value = answer[position + 2:position + 2 + length]
        if len(value) != length:
            break
        properties[tag] = int.from_bytes(value, "little") if length <= 4 else bytes(value)
        position += 2 + length
    return properties


def max_apdu_data(properties: dict[int, int | bytes]) -> int | None:
    value = properties.get(PROPERTY_MAX_APDU_DATA_SIZE)
    return value if isinstance(value, int) else None


def reader_allows_extended(max_data: int | None) -> bool | None:
    """None: unknown. 0 (part 10: short APDUs only) or any size a short APDU already covers: no."""
    if max_data is None:
        return None
    return max_data > SHORT_APDU_DATA


def combine_extended(card: bool | None, reader: bool | None) -> bool | None:
    """Extended length is usable only when neither side rules it out; the card must claim it
    (None: the chip layer decides from EF.ATR/INFO or a probe)."""
    return False if reader is False else card
