"""3M RTE native framing: SOH len_lo len_hi device type STX text ETX [BCC].

The length word holds 14 bits, 7 per byte (low = n & 0x7F, high = (n >> 7) & 0x7F); 3M counts from
the device byte through the BCC. A block is framed by its length word; the BCC (XOR from the first
length byte through ETX) is there only when the reader's UseBCC is on (`use_bcc`).

Only device 'O' (optical) with type 'U' (unsolicited data) is a document: STX flag line1 CR line2
CR line3 CR ETX, lines padded with '_' (to 30 for three-line documents, 44 otherwise), the bottom
line always line 3. Blocks of the other devices sharing the port (MSR 'C', barcode 'A',
pass-through '1', smartcard 'S', the reader '0') and the single ACK/NAK bytes are reported as
DeviceMessage, never as a failed document.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from drivers.errors import FrameEncodeError
from drivers.passport_reader.events import (
    BlockKind,
    DeviceMessage,
    DocumentRead,
    ReadError,
    ReadErrorReason,
)
from drivers.passport_reader.framing.common import (
    DecoderLimits,
    checked_lines,
    lines_or_error,
    split_text_lines,
)
from drivers.passport_reader.framing.machine import StartByteMachine
from drivers.passport_reader.settings import RteBccScope, RteLengthScope

SOH, STX, ETX, ACK, NAK = 0x01, 0x02, 0x03, 0x06, 0x15
OCR, UNSOLICITED = ord("O"), ord("U")
DEVICES = {OCR: BlockKind.OCR_MESSAGE, ord("C"): BlockKind.MSR, ord("A"): BlockKind.BARCODE,
           ord("1"): BlockKind.PASS_THROUGH, ord("S"): BlockKind.SMARTCARD, ord("0"): BlockKind.DEVICE}
MESSAGE_TYPES = frozenset(b"UDEC")   # unsolicited, data, error, command
TEXT_START = 7                       # SOH, 2 length bytes, device, type, STX, flag
HEADER_END = 6                       # SOH, 2 length bytes, device, type, STX
PAD = b"_"
MAX_LENGTH = 0x3FFF                  # 14 bits


@dataclass(frozen=True)
class RteOptions:
    check_bcc: bool = True
    bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    length_scope: RteLengthScope = RteLengthScope.AFTER_LENGTH
    use_bcc: bool = True

    @property
    def trailer(self) -> int:
        """Bytes after the text: ETX, and the BCC when the reader sends one."""
        return 2 if self.use_bcc else 1


def block_check(data: bytes) -> int:
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def _bcc_span(frame_without_bcc: bytes, scope: RteBccScope) -> bytes:
    start = {RteBccScope.FROM_SOH: 0, RteBccScope.AFTER_SOH: 1, RteBccScope.AFTER_STX: 6}[scope]
    return frame_without_bcc[start:]


def length_word(value: int) -> bytes:
    return bytes([value & 0x7F, (value >> 7) & 0x7F])


def declared_length(low: int, high: int) -> int:
    return (low & 0x7F) | (high & 0x7F) << 7


def _length_value(block_size: int, scope: RteLengthScope) -> int:
    return block_size if scope is RteLengthScope.BLOCK else block_size - 3


def _block_size(declared: int, scope: RteLengthScope) -> int | None:
    if scope is RteLengthScope.UNCHECKED:
        return None
    return declared if scope is RteLengthScope.BLOCK else declared + 3


def encode_block(device: int, message_type: int, text: bytes,
                 options: RteOptions = RteOptions()) -> bytes:
    """One RTE block of any device, as the reader puts it on the wire."""
    body = bytes([device, message_type, STX]) + text + bytes([ETX])
    size = 3 + len(body) + (1 if options.use_bcc else 0)
    value = _length_value(size, options.length_scope)
    if value > MAX_LENGTH:
        raise FrameEncodeError("an RTE block holds at most 16383 bytes")
    frame = bytes([SOH]) + length_word(value) + body
    if options.use_bcc:
        frame += bytes([block_check(_bcc_span(frame, options.bcc_scope))])
    return frame


def encode_rte(lines: Sequence[str], options: RteOptions = RteOptions(), flag: int = 0x30) -> bytes:
    width = 30 if len(lines) == 3 else 44
    encoded = checked_lines(lines, max_chars=width)
    if any(PAD in line for line in encoded):
        raise FrameEncodeError("'_' is the RTE padding character and cannot be sent as text")
    padded = [b""] * (3 - len(encoded)) + [line.ljust(width, PAD) for line in encoded]
    text = bytes([flag]) + b"".join(line + b"\r" for line in padded)
    return encode_block(OCR, UNSOLICITED, text, options)


class RteDecoder(StartByteMachine):
    START = SOH

    def __init__(self, limits: DecoderLimits | None = None, options: RteOptions = RteOptions()):
        super().__init__(limits)
        self.options = options
        self._replay = b""

    def _step(self, byte: int) -> None:
        super()._step(byte)
        while self._replay:  # iterative, so a long chain of broken blocks cannot recurse deeply
            replay, self._replay = self._replay, b""
            for again in replay:
                super()._step(again)

    def _outside(self, byte: int) -> None:
        if byte in (ACK, NAK):
            self._out.append(DeviceMessage(BlockKind.ACK if byte == ACK else BlockKind.NAK,
                                           raw=bytes([byte])))
        else:
            self.discarded_bytes += 1

    def _on_begin(self) -> None:
        self._size: int | None = None   # whole block size from the length word (None: by ETX)
        self._length_bad = False
        self._etx_at: int | None = None

    def _frame_byte(self, byte: int) -> None:
        index = len(self._open) - 1
        if index <= 2:
            self._length_byte(index, byte)
        elif index <= 5:
            self._header_byte(index, byte)
        elif self._size is not None:
            self._counted_byte(index, byte)
        else:
            self._etx_framed_byte(index, byte)

    def _length_byte(self, index: int, byte: int) -> None:
        if byte & 0x80:
            self._resync()  # 7-bit length bytes: the SOH was noise
        elif index == 2:
            declared = declared_length(self._open[1], byte)
            size = _block_size(declared, self.options.length_scope)
            fits = size is None or HEADER_END + self.options.trailer <= size <= self.limits.max_frame_bytes
            self._size = size if fits else None
            self._length_bad = not fits

    def _header_byte(self, index: int, byte: int) -> None:
        valid = {3: byte in DEVICES, 4: byte in MESSAGE_TYPES, 5: byte == STX}[index]
        if not valid:
            self._resync()

    def _counted_byte(self, index: int, byte: int) -> None:
        assert self._size is not None       # called only for a block with a length word
        if byte == SOH and self._is_text_block() and index < self._size - 1:
            self._restart()  # a text block holds no SOH: a new block began before this one ended
        elif len(self._open) == self._size:
            self._finish(self._size - self.options.trailer)

    def _etx_framed_byte(self, index: int, byte: int) -> None:
        if self._etx_at is not None:
            self._finish(self._etx_at)
        elif byte == SOH and self._is_text_block():
            self._restart()
        elif byte == ETX:
            self._etx_at = index
            if not self.options.use_bcc:
                self._finish(index)

    def _silence(self) -> None:
        """A block that looks complete but whose length word promised more is a length fault."""
        frame = self._open
        looks_complete = (self._size is not None and len(frame) > HEADER_END + self.options.trailer
                          and frame[-self.options.trailer] == ETX)
        self._fail(ReadErrorReason.BAD_LENGTH if looks_complete else ReadErrorReason.TRUNCATED)

    def _is_text_block(self) -> bool:
        return self._open[3] == OCR

    def _restart(self) -> None:
        self._open.pop()
        self._fail(ReadErrorReason.TRUNCATED)
        self._begin()

    def _resync(self) -> None:
        """Not a block header: the SOH was noise. Rescan what followed it (at most 5 bytes,
        which may hold the real start of a block)."""
        rest = bytes(self._open[1:])
        self._frame = None
        self.discarded_bytes += 1
        for byte in rest:
            self._step(byte)

    def _fail(self, reason: ReadErrorReason) -> None:
        """Cut, silent or oversized: a document attempt only if the block is (or may be) optical."""
        frame = bytes(self._frame or b"")
        if len(frame) > 3 and frame[3] != OCR:
            self._emit(DeviceMessage(DEVICES[frame[3]], _type_of(frame), intact=False, raw=frame))
        else:
            super()._fail(reason)

    def _finish(self, etx_at: int) -> None:
        raw = bytes(self._open)
        reason = self._integrity_error(raw, etx_at)
        if reason is ReadErrorReason.BAD_BCC and raw[-1] == SOH:
            self._restart()  # cut before its BCC: that "BCC" starts the next block
            return
        if reason is not None and self._rescan_inner_block(raw):
            return
        if raw[3] != OCR or raw[4] != UNSOLICITED:
            self._emit(DeviceMessage(DEVICES[raw[3]], _type_of(raw), reason is None, raw))
            return
        result = ReadError(reason, raw) if reason else self._text(raw, etx_at)
        self._emit(DocumentRead(result, raw) if isinstance(result, tuple) else result)

    def _rescan_inner_block(self, raw: bytes) -> bool:
        """A broken block that holds a SOH was probably cut, its length word swallowing the next
        block: report the part before that SOH and read the rest again."""
        inner = raw.find(SOH, HEADER_END)
        if inner < 0 or (inner == len(raw) - 1 and self.options.use_bcc and self._size is None):
            return False
        self._frame = bytearray(raw[:inner])
        self._fail(ReadErrorReason.TRUNCATED)
        self._replay = raw[inner:]
        return True

    def _integrity_error(self, raw: bytes, etx_at: int) -> ReadErrorReason | None:
        if raw[etx_at] != ETX or self._length_bad:
            return ReadErrorReason.BAD_LENGTH
        checks_bcc = self.options.use_bcc and self.options.check_bcc
        if checks_bcc and block_check(_bcc_span(raw[:-1], self.options.bcc_scope)) != raw[-1]:
            return ReadErrorReason.BAD_BCC
        if self.options.length_scope is RteLengthScope.UNCHECKED:
            return None
        declared = declared_length(raw[1], raw[2])
        if declared != _length_value(len(raw), self.options.length_scope):
            return ReadErrorReason.BAD_LENGTH
        return None

    def _text(self, raw: bytes, etx_at: int) -> tuple[str, ...] | ReadError:
        parts = split_text_lines(raw[TEXT_START:etx_at])
        if len(parts) != 4 or parts[3]:
            return ReadError(ReadErrorReason.BAD_LAYOUT, raw)
        lines = [part.rstrip(PAD) for part in parts[:3]]
        first_present = next((i for i, line in enumerate(lines) if line), 3)
        if not all(lines[first_present:]):
            return ReadError(ReadErrorReason.BAD_LAYOUT, raw)  # the bottom line is always line 3
        return lines_or_error(lines, raw, self.limits)


def _type_of(frame: bytes) -> str:
    return chr(frame[4]) if len(frame) > 4 else ""
