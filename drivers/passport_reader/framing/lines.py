"""Plain text lines terminated by CR, LF or CR LF, grouped into one document by time.

A document ends when (a) its lines have the shape of a complete MRZ (2 x 44, 2 x 36, 3 x 30),
(b) an empty line arrives, or (c) no byte arrived for `idle_timeout_s` (injected clock).
Bytes that are not text are dropped as line noise between lines and spoil a line inside it.
"""
from __future__ import annotations

from collections.abc import Sequence

from drivers.passport_reader.events import DocumentRead, ReadError, ReadErrorReason
from drivers.passport_reader.framing.common import (
    CR, LF, MAX_LINES, ByteDecoder, DecoderLimits, checked_lines, is_text_byte,
)

COMPLETE_SHAPES = {(44, 44), (36, 36), (30, 30, 30)}


def encode_lines(lines: Sequence[str], terminator: bytes = b"\r\n") -> bytes:
    if terminator not in (b"\r", b"\n", b"\r\n"):
        raise ValueError("terminator must be CR, LF or CR LF")
    return b"".join(line + terminator for line in checked_lines(lines))


class LinesDecoder(ByteDecoder):
    def __init__(self, limits: DecoderLimits | None = None) -> None:
        super().__init__(limits)
        self._line = bytearray()
        self._line_spoiled = False
        self._doc: list[bytes] = []
        self._doc_spoiled: ReadErrorReason | None = None
        self._raw = bytearray()
        self._last_cr = False

    @property
    def in_frame(self) -> bool:
        return bool(self._line or self._doc or self._doc_spoiled)

    def _silence(self) -> None:
        self._close_document(truncated=bool(self._line))

    def _link_broken(self) -> None:
        self._close_document(truncated=True)

    def _step(self, byte: int) -> None:
        after_cr, self._last_cr = self._last_cr, byte == CR
        if byte == LF and after_cr:
            self._keep(byte)
        elif byte in (CR, LF):
            self._keep(byte)
            self._end_line()
        elif is_text_byte(byte):
            self._add_text(byte)
        elif self._line:
            self._keep(byte)
            self._line_spoiled = True
        else:
            self.discarded_bytes += 1

    def _keep(self, byte: int) -> None:
        if len(self._raw) < self.limits.max_frame_bytes:  # bounded even for an endless stream
            self._raw.append(byte)

    def _add_text(self, byte: int) -> None:
        self._keep(byte)
        if len(self._line) >= self.limits.max_line_chars:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.OVERSIZED
            return
        self._line.append(byte)

    def _end_line(self) -> None:
        if not self._line:
            if self._doc or self._doc_spoiled:
                self._close_document(truncated=False)  # an empty line ends the document
            else:
                self._raw.clear()
            return
        if self._line_spoiled:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.BAD_CHARACTER
        if len(self._doc) < MAX_LINES:
            self._doc.append(bytes(self._line))
        else:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.BAD_LAYOUT
        self._line.clear()
        self._line_spoiled = False
        if self._doc_spoiled:
            return
        if tuple(len(line) for line in self._doc) in COMPLETE_SHAPES:
            self._close_document(truncated=False)

    def _close_document(self, truncated: bool) -> None:
        raw = bytes(self._raw)
        reason = ReadErrorReason.TRUNCATED if truncated else self._doc_spoiled
        if reason is not None:
            self._out.append(ReadError(reason, raw))
        else:
            self._out.append(DocumentRead(tuple(x.decode("ascii") for x in self._doc), raw))
        self._doc, self._doc_spoiled, self._raw = [], None, bytearray()
        self._line.clear()
        self._line_spoiled = False
