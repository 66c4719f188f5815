"""ISO/IEC 7816-4 command and response APDUs (short and extended length) and status words."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from firmware_app.emrtd.errors import ApduError

SHORT_MAX_LC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NE = 65536


class SW(enum.IntEnum):
    """Status words the reader acts on (ISO/IEC 7816-4, ICAO 9303-10/11)."""
    OK = 0x9000
    END_OF_FILE_WARNING = 0x6282
    WRONG_LENGTH = 0x6700
    SM_DATA_MISSING = 0x6987
    SM_DATA_INCORRECT = 0x6988
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    INCORRECT_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_BINARY_ODD = 0xB1
    GET_CHALLENGE = 0x84
    EXTERNAL_AUTHENTICATE = 0x82
    INTERNAL_AUTHENTICATE = 0x88
    MSE = 0x22
    GENERAL_AUTHENTICATE = 0x86
    GET_RESPONSE = 0xC0


@dataclass(frozen=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int = 0  # expected response length; 0 = none, 256/65536 = "all"

    @property
    def is_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_LC or self.ne > SHORT_MAX_NE

    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])

    def encode(self, force_extended: bool = False) -> bytes:
        self._check_sizes()
        if self.is_extended or force_extended:
            return self.header() + _extended_body(self.data, self.ne)
        lc = bytes([len(self.data)]) + self.data if self.data else b""
        le = bytes([self.ne % 256]) if self.ne else b""
        return self.header() + lc + le

    def _check_sizes(self) -> None:
        for name, value in (("CLA", self.cla), ("INS", self.ins), ("P1", self.p1), ("P2", self.p2)):
            if not 0 <= value <= 0xFF:
                raise ApduError(f"{name} {value} does not fit one byte")
        if len(self.data) > 65535:
            raise ApduError(f"command data of {len(self.data)} bytes is too long")
        if not 0 <= self.ne <= EXTENDED_MAX_NE:
            raise ApduError(f"Ne {self.ne} out of range")


def _extended_body(data: bytes, ne: int) -> bytes:
    body = b"\x00" + len(data).to_bytes(2, "big") + data if data else b""
    if ne:
        le = (ne % 65536).to_bytes(2, "big")
        body += le if data else b"\x00" + le
    return body


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ApduError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def parse_command(raw: bytes) -> CommandApdu:
    """Decode a command APDU (the card side of the protocol: the virtual chip uses this)."""
    if len(raw) < 4:
        raise ApduError("command APDU shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return CommandApdu(cla, ins, p1, p2)
    if body[0] == 0 and len(body) >= 3:
        return _parse_extended(cla, ins, p1, p2, body)
    return _parse_short(cla, ins, p1, p2, body)


def _parse_short(cla: int, ins: int, p1: int, p2: int, body: bytes) -> CommandApdu:
    if len(body) == 1:
        return CommandApdu(cla, ins, p1, p2, b"", body[0] or 256)
    lc = body[0]
    if lc == 0 or len(body) not in (1 + lc, 2 + lc):
        raise ApduError("short APDU body length does not match Lc")
    data = body[1:1 + lc]
    ne = (body[1 + lc] or 256) if len(body) == 2 + lc else 0
    return CommandApdu(cla, ins, p1, p2, data, ne)


def _parse_extended(cla: int, ins: int, p1: int, p2: int, body: bytes) -> CommandApdu:
    size = int.from_bytes(body[1:3], "big")
    if len(body) == 3:
        return CommandApdu(cla, ins, p1, p2, b"", size or 65536)
    if size == 0 or len(body) not in (3 + size, 5 + size):
        raise ApduError("extended APDU body length does not match Lc")
    data = body[3:3 + size]
    ne = 0
    if len(body) == 5 + size:
        ne = int.from_bytes(body[3 + size:], "big") or 65536
    return CommandApdu(cla, ins, p1, p2, data, ne)
