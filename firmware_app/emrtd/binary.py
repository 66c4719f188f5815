"""Reading one elementary file: SELECT, a short header read, then the rest in as few blocks as allowed.

Short APDUs under secure messaging carry at most 223 plain bytes (the protected answer must fit in
256); extended length reads the rest of a file at once. Offsets above 32767 need odd-INS B1.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_app.emrtd.apdu import SW, CommandApdu, Ins, ResponseApdu
from firmware_app.emrtd.budget import ReadBudget
from firmware_app.emrtd.errors import (
    FileNotFound,
    FileTooLarge,
    ReadBudgetExceeded,
    ReadError,
    SecureMessagingError,
    TlvError,
)
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.tlv import encode_tlv, parse_single_tlv, read_header

HEADER_READ = 4
SHORT_SM_MAX = 223
ODD_INS_OVERHEAD = 4  # 53 82 LL LL around the data in a B1 answer
MAX_B0_OFFSET = 0x7FFF
MAX_FILE_SIZE = 1 << 20  # no eMRTD file is near 1 MiB; a bigger claim is hostile
TAG_OFFSET, TAG_DISCRETIONARY = 0x54, 0x53


BlockSeen = Callable[[bytes], None]  # sees each new piece of the content in order; raises to stop the read


@dataclass(frozen=True)
class ReadLimits:
    max_response: int  # largest plain data per READ BINARY (223 short, or from EF.ATR/INFO)
    extended: bool
    declared: bool = True  # False: nothing told us; a probe may find out


class BlockFailed(Exception):
    """Internal: one READ BINARY failed; the caller retries or re-authenticates."""

    def __init__(self, sw: int | None, sm_lost: bool):
        self.sw, self.sm_lost = sw, sm_lost
        super().__init__(f"block failed (SW {sw:04X})" if sw is not None else "block failed")


Recover = Callable[[int, bool], None]  # (file id, secure messaging lost) -> re-establish state


def select_file(session: Session, fid: int, name: str) -> None:
    response = session.send(CommandApdu(0x00, Ins.SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")), f"select {name}")
    if response.sw == SW.FILE_NOT_FOUND:
        raise FileNotFound(name, "file not found")
    if not response.ok:
        raise ReadError(name, f"SELECT refused (SW {response.sw:04X})")


def read_block(session: Session, offset: int, length: int, name: str, extended: bool) -> bytes:
    """One READ BINARY (B0 below 32768, B1 above); raises BlockFailed on any failure."""
    try:
        if offset <= MAX_B0_OFFSET:
            response = session.send(CommandApdu(0x00, Ins.READ_BINARY, offset >> 8, offset & 0xFF, ne=length),
                                    f"read {name}")
            return _block_data(response, session)
        return _read_odd(session, offset, length, name, extended)
    except SecureMessagingError as exc:
        raise BlockFailed(None, True) from exc


def _read_odd(session: Session, offset: int, length: int, name: str, extended: bool) -> bytes:
    data = encode_tlv(TAG_OFFSET, offset.to_bytes(3, "big"))
    ne = length + ODD_INS_OVERHEAD
    if not extended:
        ne = min(ne, 256)
    response = session.send(CommandApdu(0x00, Ins.READ_BINARY_ODD, 0, 0, data, ne=ne), f"read {name} (B1)")
    wrapped = _block_data(response, session)
    try:
        value = parse_single_tlv(wrapped, max_depth=1, expected_tag=TAG_DISCRETIONARY).value
    except TlvError as exc:
        raise ReadError(name, f"malformed odd-INS answer: {exc}") from exc
    if not value:  # no progress: read_file would ask for the same block forever
        raise BlockFailed(response.sw, False)
    return value


def _block_data(response: ResponseApdu, session: Session) -> bytes:
    if response.sw in (SW.OK, SW.END_OF_FILE_WARNING) and response.data:
        return response.data
    sm_lost = session.sm is not None and session.sm.ended
    raise BlockFailed(response.sw, sm_lost)


def read_file(session: Session, fid: int, name: str, limits: ReadLimits, recover: Recover,
              retries: int = 2, budget: ReadBudget = ReadBudget(), max_size: int = MAX_FILE_SIZE,
              on_block: BlockSeen | None = None) -> bytes:
    """Whole file content; each failed block is retried after `recover` (re-auth if SM was lost).
    Once the header announces the size (at most `max_size`), the file may cost at most
    `budget.apdus_for(size)` APDUs; `on_block` may look at the content as it arrives."""
    first_apdu = session.transmitted
    select_file(session, fid, name)
    reader = _BlockReader(session, fid, name, limits, recover, retries)
    head = reader.block(0, HEADER_READ)
    if len(head) == HEADER_READ and head[1:2] == b"\x83":  # 3-byte length (files over 64 KiB)
        head += reader.block(HEADER_READ, 1)
    total = _total_size(head, name, max_size)
    reader.apdu_limit = (first_apdu + budget.apdus_for(total), budget.apdus_for(total), total)
    content = bytearray(head[:total])
    seen = on_block or (lambda piece: None)
    seen(bytes(content))
    while len(content) < total:
        piece = reader.block(len(content), min(total - len(content), _chunk(limits, len(content))))
        content += piece
        seen(piece)
    return bytes(content)


def _chunk(limits: ReadLimits, offset: int) -> int:
    if offset > MAX_B0_OFFSET:
        return limits.max_response - ODD_INS_OVERHEAD
    return limits.max_response


def _total_size(head: bytes, name: str, max_size: int) -> int:
    try:
        header = read_header(head)
    except TlvError as exc:
        raise ReadError(name, f"file does not start with a readable TLV header: {exc}") from exc
    if header.total_size > min(max_size, MAX_FILE_SIZE):
        raise FileTooLarge(name, f"file claims {header.total_size} bytes, more than such a file holds")
    return header.total_size


class _BlockReader:
    def __init__(self, session: Session, fid: int, name: str, limits: ReadLimits, recover: Recover, retries: int):
        self.session, self.fid, self.name, self.limits = session, fid, name, limits
        self.recover, self.retries = recover, retries
        self.apdu_limit: tuple[int, int, int] | None = None  # (last allowed count, budget, file size)

    def block(self, offset: int, length: int) -> bytes:
        last: BlockFailed | None = None
        for _attempt in range(self.retries + 1):
            self._within_budget()
            try:
                data = read_block(self.session, offset, length, self.name, self.limits.extended)
                return data[:length]
            except BlockFailed as failure:
                last = failure
                self.recover(self.fid, failure.sm_lost)
        raise ReadError(self.name, f"block at offset {offset} failed after {self.retries} retries ({last})")

    def _within_budget(self) -> None:
        if self.apdu_limit is not None and self.session.transmitted >= self.apdu_limit[0]:
            _, allowed, size = self.apdu_limit
            raise ReadBudgetExceeded(self.name, f"more than {allowed} APDUs for a file of {size} bytes")
