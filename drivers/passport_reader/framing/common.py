"""Pieces shared by the framing decoders: limits, the decoder interface and its base, text checks."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from drivers.errors import FrameEncodeError
from drivers.passport_reader.events import FrameEvent, ReadError, ReadErrorReason

CR, LF = 0x0D, 0x0A
MAX_LINES = 3


@dataclass(frozen=True)
class DecoderLimits:
    max_frame_bytes: int = 512    # far above 3 x 44 MRZ characters plus framing
    max_line_chars: int = 64      # longest MRZ line is 44 (RTE pads to 44 or 30)
    idle_timeout_s: float = 0.3   # silence that ends an unfinished frame / a LINES document


class FrameDecoder(Protocol):
    """Pure incremental decoder: bytes and the current time in, events out. Never raises on input.

    `poll` reports a frame left unfinished for the idle timeout; `abort` one cut by a link loss.
    """

    discarded_bytes: int  # noise dropped between frames, for diagnostics

    def feed(self, data: bytes, now: float) -> list[FrameEvent]: ...

    def poll(self, now: float) -> list[FrameEvent]: ...

    def abort(self) -> list[FrameEvent]: ...


class ByteDecoder:
    """What every FrameDecoder shares: bytes with the injected time in, queued events out, and the
    idle timeout. Subclasses define `in_frame`, `_step(byte)`, `_silence()` and `_link_broken()`."""

    def __init__(self, limits: DecoderLimits | None = None) -> None:
        self.limits = limits or DecoderLimits()
        self.discarded_bytes = 0
        self._last_byte_at = 0.0
        self._out: list[FrameEvent] = []

    @property
    def in_frame(self) -> bool:
        raise NotImplementedError

    def feed(self, data: bytes, now: float) -> list[FrameEvent]:
        for byte in data:
            self._step(byte)
        if data:
            self._last_byte_at = now
        return self._take()

    def poll(self, now: float) -> list[FrameEvent]:
        if self.in_frame and now - self._last_byte_at >= self.limits.idle_timeout_s:
            self._silence()
        return self._take()

    def abort(self) -> list[FrameEvent]:
        """The link broke: whatever is unfinished is a truncated read."""
        if self.in_frame:
            self._link_broken()
        return self._take()

    def _take(self) -> list[FrameEvent]:
        out, self._out = self._out, []
        return out

    def _step(self, byte: int) -> None:
        raise NotImplementedError

    def _silence(self) -> None:
        """No byte for the idle timeout inside a frame."""
        raise NotImplementedError

    def _link_broken(self) -> None:
        raise NotImplementedError


def is_text_byte(byte: int) -> bool:
    return 0x20 <= byte <= 0x7E


def split_text_lines(body: bytes) -> list[bytes]:
    """Split on CR, tolerating CR LF (some readers are configured to send both)."""
    return body.replace(b"\r\n", b"\r").split(b"\r")


def text_error(parts: Sequence[bytes], limits: DecoderLimits) -> ReadErrorReason | None:
    """Why these line bytes are not acceptable MRZ text lines, or None when they are."""
    for part in parts:
        if not all(is_text_byte(b) for b in part):
            return ReadErrorReason.BAD_CHARACTER
        if len(part) > limits.max_line_chars:
            return ReadErrorReason.OVERSIZED
    return None


def lines_or_error(parts: Sequence[bytes], raw: bytes,
                   limits: DecoderLimits) -> tuple[str, ...] | ReadError:
    """Non-empty lines as text, or a ReadError when the text is unusable or empty."""
    reason = text_error(parts, limits)
    lines = [p.decode("ascii") for p in parts if p] if reason is None else []
    if reason is None and not lines:
        reason = ReadErrorReason.NO_TEXT
    if reason is None and len(lines) > MAX_LINES:
        reason = ReadErrorReason.BAD_LAYOUT
    if reason is not None:
        return ReadError(reason, raw)
    return tuple(lines)


def checked_lines(lines: Sequence[str], max_chars: int = 44) -> list[bytes]:
    """Validate lines before encoding: 1..3 lines of printable ASCII, none longer than max_chars."""
    if isinstance(lines, (str, bytes)):
        raise FrameEncodeError("give the document as a list of lines, not one string")
    if not 1 <= len(lines) <= MAX_LINES:
        raise FrameEncodeError(f"a document has 1 to {MAX_LINES} lines, got {len(lines)}")
    for line in lines:
        if not isinstance(line, str) or not line or not line.isascii() or not line.isprintable():
            raise FrameEncodeError("each line must be non-empty printable ASCII")
        if len(line) > max_chars:
            raise FrameEncodeError(f"line longer than {max_chars} characters")
    return [line.encode("ascii") for line in lines]
