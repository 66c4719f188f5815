"""CUTE/OCR framing (Access-IS, DESKO, ...): [open] STX line CR line CR [line CR] ETX [close].

"Direct" CUTE sends STX .. ETX with nothing around it; "indirect" wraps it in delimiters that
DESKO chooses per device: FS .. GS (the Access-IS default) or SO .. SI, or any other pair
(settings.CuteDelimiters and `cute_open` / `cute_close`).
"""
from __future__ import annotations

from collections.abc import Sequence

from drivers.passport_reader.events import DocumentRead, ReadErrorReason
from drivers.passport_reader.framing.common import (
    DecoderLimits,
    checked_lines,
    lines_or_error,
    split_text_lines,
)
from drivers.passport_reader.framing.machine import StartByteMachine

FS, STX, ETX, GS = 0x1C, 0x02, 0x03, 0x1D
SO, SI = 0x0E, 0x0F


def encode_cute(lines: Sequence[str], open_byte: int | None = FS, close_byte: int | None = GS) -> bytes:
    body = b"".join(line + b"\r" for line in checked_lines(lines))
    head = bytes([open_byte]) if open_byte is not None else b""
    tail = bytes([close_byte]) if close_byte is not None else b""
    return head + bytes([STX]) + body + bytes([ETX]) + tail


class CuteDecoder(StartByteMachine):
    def __init__(self, limits: DecoderLimits | None = None, open_byte: int | None = FS,
                 close_byte: int | None = GS) -> None:
        super().__init__(limits)
        self.START = STX if open_byte is None else open_byte
        self._close = close_byte
        self._text_from = 1 if open_byte is None else 2
        self._text_cut = 0 if close_byte is None else 1

    def _on_begin(self) -> None:
        self._etx_seen = False

    def _frame_byte(self, byte: int) -> None:
        frame = self._open
        if byte == self.START:  # a new frame began before this one ended
            frame.pop()
            self._fail(ReadErrorReason.TRUNCATED)
            self._begin()
        elif len(frame) == 2 and self._text_from == 2:
            if byte != STX:
                self._drop()
        elif self._etx_seen and byte == self._close:
            self._finish()
        elif self._etx_seen:
            self._fail(ReadErrorReason.BAD_TRAILER)
        elif byte == ETX:
            self._etx_seen = True
            if self._close is None:
                self._finish()

    def _finish(self) -> None:
        raw = bytes(self._open)
        text = raw[self._text_from:len(raw) - 1 - self._text_cut]
        result = lines_or_error(split_text_lines(text), raw, self.limits)
        self._emit(DocumentRead(result, raw) if isinstance(result, tuple) else result)
