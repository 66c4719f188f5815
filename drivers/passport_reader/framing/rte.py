"""3M RTE native framing: SOH len_lo len_hi "O" "U" STX flag line1 CR line2 CR line3 CR ETX BCC.

Lines are padded with '_' (to 30 characters for three-line documents, 44 otherwise) and the
bottom line is always line 3, so a two-line passport arrives with an empty first line.
Which bytes the BCC covers and what the length word counts are configurable (see RteBccScope).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from drivers.passport_reader.errors import FrameEncodeError
from drivers.passport_reader.events import DocumentRead, ReadError, ReadErrorReason
from drivers.passport_reader.framing.common import (
    DecoderLimits, checked_lines, lines_or_error, split_text_lines,
)
from drivers.passport_reader.framing.machine import StartByteMachine
from drivers.passport_reader.settings import RteBccScope, RteLengthScope

SOH, STX, ETX = 0x01, 0x02, 0x03
HEADER = b"OU\x02"          # device "O"ptical, type "U"nsolicited, STX
TEXT_START = 7              # SOH, 2 length bytes, O, U, STX, flag
PAD = b"_"
LENGTH_MASK = 0x3FFF        # the length word has 14 significant bits


@dataclass(frozen=True)
class RteOptions:
    check_bcc: bool = True
    bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    length_scope: RteLengthScope = RteLengthScope.BLOCK


def _bcc_span(frame_without_bcc: bytes, scope: RteBccScope) -> bytes:
    start = {RteBccScope.FROM_SOH: 0, RteBccScope.AFTER_SOH: 1, RteBccScope.AFTER_STX: 6}[scope]
    return frame_without_bcc[start:]


def block_check(data: bytes) -> int:
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def _length_value(block_size: int, scope: RteLengthScope) -> int:
    return block_size - 3 if scope is RteLengthScope.AFTER_LENGTH else block_size


def encode_rte(lines: Sequence[str], options: RteOptions = RteOptions(), flag: int = 0x30) -> bytes:
    width = 30 if len(lines) == 3 else 44
    encoded = checked_lines(lines, max_chars=width)
    if any(PAD in line for line in encoded):
        raise FrameEncodeError("'_' is the RTE padding character and cannot be sent as text")
    padded = [b""] * (3 - len(encoded)) + [line.ljust(width, PAD) for line in encoded]
    body = HEADER + bytes([flag]) + b"".join(line + b"\r" for line in padded) + bytes([ETX])
    length = _length_value(len(body) + 4, options.length_scope)
    head = bytes([SOH, length & 0xFF, (length >> 8) & 0x3F])
    return head + body + bytes([block_check(_bcc_span(head + body, options.bcc_scope))])


class RteDecoder(StartByteMachine):
    START = SOH

    def __init__(self, limits: DecoderLimits | None = None, options: RteOptions = RteOptions()):
        super().__init__(limits)
        self.options = options

    def _on_begin(self) -> None:
        self._etx_seen = False

    def _frame_byte(self, byte: int) -> None:
        index = len(self._frame) - 1
        if 3 <= index <= 5:
            if byte != HEADER[index - 3]:
                self._resync()
        elif index < 3:
            return  # the length word: any value
        elif self._etx_seen:
            self._finish()
        elif byte == SOH:  # (flag byte included) a new frame began before this one ended
            self._restart()
        elif byte == ETX and index > TEXT_START - 1:
            self._etx_seen = True

    def _restart(self) -> None:
        self._frame.pop()
        self._fail(ReadErrorReason.TRUNCATED)
        self._begin()

    def _resync(self) -> None:
        """The header did not match: the SOH was noise. Rescan what followed it (at most 5 bytes,
        which may hold the real start of a frame)."""
        rest = bytes(self._frame[1:])
        self._frame = None
        self.discarded_bytes += 1
        for byte in rest:
            self._step(byte)

    def _finish(self) -> None:
        raw = bytes(self._frame)
        reason = self._integrity_error(raw)
        if reason is ReadErrorReason.BAD_BCC and raw[-1] == SOH:
            self._restart()  # cut before its BCC: that "BCC" starts the next frame
            return
        result = ReadError(reason, raw) if reason else self._text(raw)
        self._emit(DocumentRead(result, raw) if isinstance(result, tuple) else result)

    def _integrity_error(self, raw: bytes) -> ReadErrorReason | None:
        if self.options.check_bcc:
            if block_check(_bcc_span(raw[:-1], self.options.bcc_scope)) != raw[-1]:
                return ReadErrorReason.BAD_BCC
        if self.options.length_scope is not RteLengthScope.UNCHECKED:
            declared = (raw[1] | raw[2] << 8) & LENGTH_MASK
            if declared != _length_value(len(raw), self.options.length_scope):
                return ReadErrorReason.BAD_LENGTH
        return None

    def _text(self, raw: bytes) -> tuple[str, ...] | ReadError:
        parts = split_text_lines(raw[TEXT_START:-2])
        if len(parts) != 4 or parts[3]:
            return ReadError(ReadErrorReason.BAD_LAYOUT, raw)
        lines = [part.rstrip(PAD) for part in parts[:3]]
        first_present = next((i for i, line in enumerate(lines) if line), 3)
        if not all(lines[first_present:]):
            return ReadError(ReadErrorReason.BAD_LAYOUT, raw)  # the bottom line is always line 3
        return lines_or_error(lines, raw, self.limits)
