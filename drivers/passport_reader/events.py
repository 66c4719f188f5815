"""What the reader driver reports. Events never print MRZ text in their repr (personal data)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from drivers.errors import DriverUnavailable


class ReadErrorReason(str, Enum):
    TRUNCATED = "truncated"          # frame cut off: a new start byte, silence, or unplug
    OVERSIZED = "oversized"          # frame or line longer than the bounded buffer
    BAD_BCC = "bad_bcc"              # block check character mismatch (RTE)
    BAD_LENGTH = "bad_length"        # length word disagrees with the frame (RTE)
    BAD_TRAILER = "bad_trailer"      # end-of-frame bytes missing or wrong
    BAD_CHARACTER = "bad_character"  # control or non-ASCII byte inside the text
    BAD_LAYOUT = "bad_layout"        # wrong number or order of lines
    NO_TEXT = "no_text"              # a frame without any line (reader saw no MRZ)


class LinkState(str, Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    CLOSED = "closed"


@dataclass(frozen=True)
class DocumentRead:
    """One document's MRZ lines as the reader sent them (OCR errors included), plus the frame."""

    lines: tuple[str, ...] = field(repr=False)
    raw: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"DocumentRead(lines={len(self.lines)}, lengths={[len(x) for x in self.lines]})"


@dataclass(frozen=True)
class ReadError:
    """A frame that could not be decoded; `raw` holds what was received (may hold MRZ text)."""

    reason: ReadErrorReason
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class LinkChanged:
    """The serial link went up or down; `error` says why it is down."""

    state: LinkState
    error: DriverUnavailable | None = None


FrameEvent = DocumentRead | ReadError
ReaderEvent = DocumentRead | ReadError | LinkChanged
