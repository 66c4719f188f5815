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


class BlockKind(str, Enum):
    """Data on the reader's port that is not a passport's MRZ (never a failed document)."""

    MSR = "msr"                    # magnetic stripe (3M device 'C'; '%'/';'/'+' .. '?' on lines)
    BARCODE = "barcode"            # PDF417, Code 128, ... (3M device 'A'; non-MRZ text on lines)
    PASS_THROUGH = "pass_through"  # 3M device '1'
    SMARTCARD = "smartcard"        # 3M device 'S'
    DEVICE = "device"              # 3M device '0': status of the reader itself
    OCR_MESSAGE = "ocr_message"    # 3M device 'O' with a type other than unsolicited data
    ACK = "ack"
    NAK = "nak"


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
class DeviceMessage:
    """A block that is not a document: recognised, logged, never counted as a read attempt.
    `message_type` is the 3M type byte ('U', 'D', 'E', 'C') or '' where the framing has none;
    `intact` is False when the block failed its own checks. `raw` may hold personal data
    (a card's stripe, a boarding pass): it is never logged above DEBUG."""

    kind: BlockKind
    message_type: str = ""
    intact: bool = True
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class LinkChanged:
    """The serial link went up or down; `error` says why it is down."""

    state: LinkState
    error: DriverUnavailable | None = None


FrameEvent = DocumentRead | ReadError | DeviceMessage
ReaderEvent = DocumentRead | ReadError | DeviceMessage | LinkChanged
