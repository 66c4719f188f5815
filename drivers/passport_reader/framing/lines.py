"""Plain text lines terminated by CR, LF or CR LF, grouped into one document by time.

A document ends when (a) its lines have the shape of a complete MRZ (2 x 44, 2 x 36, 3 x 30),
(b) an empty line arrives, or (c) no byte arrived for `idle_timeout_s` (injected clock).
Bytes that are not text are dropped as line noise between lines and spoil a line inside it.

Readers in this mode often share the port with a barcode or stripe reader. A line that cannot be
an MRZ line (characters outside A-Z 0-9 '<', or neither a filler '<' nor an MRZ length) is
reported on its own as a DeviceMessage (MSR when it has track sentinels, else barcode) and never
joins or spoils a document, so a scanned boarding pass does not use up a traveller's attempt.
"""
from __future__ import annotations

from collections.abc import Sequence

from drivers.passport_reader.events import (
    BlockKind,
    DeviceMessage,
    DocumentRead,
    ReadError,
    ReadErrorReason,
)
from drivers.passport_reader.framing.common import (
    CR,
    LF,
    MAX_LINES,
    ByteDecoder,
    DecoderLimits,
    checked_lines,
    is_text_byte,
)

COMPLETE_SHAPES = {(44, 44), (36, 36), (30, 30, 30)}
MRZ_LENGTHS = frozenset({30, 36, 44})
MRZ_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
TRACK_STARTS, TRACK_END = frozenset(b"%;+"), ord("?")   # ISO 7811 start and end sentinels


def encode_lines(lines: Sequence[str], terminator: bytes = b"\r\n") -> bytes:
    if terminator not in (b"\r", b"\n", b"\r\n"):
        raise ValueError("terminator must be CR, LF or CR LF")
    return b"".join(line + terminator for line in checked_lines(lines))


def could_be_mrz(line: bytes, cut_short: bool = False) -> bool:
    """MRZ characters only, and a filler or an MRZ length (a line cut at the bound counts)."""
    if not line or not set(line) <= MRZ_BYTES:
        return False
    return cut_short or b"<" in line or len(line) in MRZ_LENGTHS


def foreign_kind(line: bytes) -> BlockKind:
    if line[:1] and line[0] in TRACK_STARTS and TRACK_END in line:
        return BlockKind.MSR
    return BlockKind.BARCODE


class LinesDecoder(ByteDecoder):
    def __init__(self, limits: DecoderLimits | None = None) -> None:
        super().__init__(limits)
        self._line = bytearray()
        self._line_raw = bytearray()
        self._line_spoiled = False
        self._line_long = False
        self._doc: list[bytes] = []
        self._doc_spoiled: ReadErrorReason | None = None
        self._raw = bytearray()
        self._last_cr = False

    @property
    def in_frame(self) -> bool:
        return bool(self._line or self._doc or self._doc_spoiled)

    def _silence(self) -> None:
        if self._line and not self._doc and not could_be_mrz(bytes(self._line), self._line_long):
            self._end_line()  # a barcode without a terminator: report it, not a truncation
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
        if len(self._line_raw) < self.limits.max_frame_bytes:  # bounded even for an endless stream
            self._line_raw.append(byte)

    def _add_text(self, byte: int) -> None:
        self._keep(byte)
        if len(self._line) >= self.limits.max_line_chars:
            self._line_long = True
            return
        self._line.append(byte)

    def _end_line(self) -> None:
        line, raw = bytes(self._line), bytes(self._line_raw)
        spoiled, long = self._line_spoiled, self._line_long
        self._line.clear()
        self._line_raw.clear()
        self._line_spoiled = self._line_long = False
        if not line:
            self._blank_line(raw)
        elif not could_be_mrz(line, long):
            self._out.append(DeviceMessage(foreign_kind(line), intact=not spoiled, raw=raw))
        else:
            self._mrz_line(line, raw, spoiled, long)

    def _blank_line(self, raw: bytes) -> None:
        if self._doc or self._doc_spoiled:
            self._close_document(truncated=False)  # an empty line ends the document
        else:
            self._raw.clear()
            self._raw += raw[-1:] if raw[-1:] == b"\n" else b""

    def _mrz_line(self, line: bytes, raw: bytes, spoiled: bool, long: bool) -> None:
        self._raw += raw[:self.limits.max_frame_bytes - len(self._raw)]
        if long:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.OVERSIZED
        if spoiled:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.BAD_CHARACTER
        if len(self._doc) < MAX_LINES:
            self._doc.append(line)
        else:
            self._doc_spoiled = self._doc_spoiled or ReadErrorReason.BAD_LAYOUT
        if not self._doc_spoiled and tuple(len(x) for x in self._doc) in COMPLETE_SHAPES:
            self._close_document(truncated=False)

    def _close_document(self, truncated: bool) -> None:
        raw = bytes(self._raw + self._line_raw) if truncated else bytes(self._raw)
        reason = ReadErrorReason.TRUNCATED if truncated else self._doc_spoiled
        if reason is not None:
            self._out.append(ReadError(reason, raw[:self.limits.max_frame_bytes]))
        elif self._doc:
            self._out.append(DocumentRead(tuple(x.decode("ascii") for x in self._doc), raw))
        self._doc, self._doc_spoiled, self._raw = [], None, bytearray()
        self._line.clear()
        self._line_raw.clear()
        self._line_spoiled = self._line_long = False
