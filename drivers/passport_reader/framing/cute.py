"""CUTE-style framing (Access-IS, DESKO, ...): FS STX line CR line CR [line CR] ETX GS."""
from __future__ import annotations

from collections.abc import Sequence

from drivers.passport_reader.events import DocumentRead, ReadErrorReason
from drivers.passport_reader.framing.common import checked_lines, lines_or_error, split_text_lines
from drivers.passport_reader.framing.machine import StartByteMachine

FS, STX, ETX, GS = 0x1C, 0x02, 0x03, 0x1D


def encode_cute(lines: Sequence[str]) -> bytes:
    body = b"".join(line + b"\r" for line in checked_lines(lines))
    return bytes([FS, STX]) + body + bytes([ETX, GS])


class CuteDecoder(StartByteMachine):
    START = FS

    def _on_begin(self) -> None:
        self._etx_seen = False

    def _frame_byte(self, byte: int) -> None:
        frame = self._frame
        if byte == FS:  # a new frame began before this one ended
            frame.pop()
            self._fail(ReadErrorReason.TRUNCATED)
            self._begin()
        elif len(frame) == 2:
            if byte != STX:
                self._drop()
        elif self._etx_seen and byte == GS:
            self._finish()
        elif self._etx_seen:
            self._fail(ReadErrorReason.BAD_TRAILER)
        elif byte == ETX:
            self._etx_seen = True

    def _finish(self) -> None:
        raw = bytes(self._frame)
        result = lines_or_error(split_text_lines(raw[2:-2]), raw, self.limits)
        self._emit(DocumentRead(result, raw) if isinstance(result, tuple) else result)
