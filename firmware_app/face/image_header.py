"""Read an untrusted image's header without decoding it: format, size and, for JPEG, the number
of scans. Pure Python over the bytes, linear in their length.

A progressive JPEG may repeat its last scan thousands of times in 160 KB; each repeat makes the
decoder pass over every pixel again (a 4000x4000 one took 33-48 s). Counting scans first refuses
it in milliseconds.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

SOI = b"\xff\xd8"
EOI, SOS = 0xD9, 0xDA
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # DHT, JPG and DAC are not frames
STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}


class HeaderUnreadable(ValueError):
    """Not an image this module can read the header of."""


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int
    height: int
    scans: int = 1  # entropy-coded scans (JPEG); 1 for other formats

    @property
    def pixels(self) -> int:
        return self.width * self.height


def inspect_image(data: bytes, max_scans: int) -> ImageHeader:
    """Header of a JPEG (walked here) or any other format Pillow can size from its header.
    Counting stops past `max_scans`, so the cost does not grow with a bomb's repeats."""
    if data.startswith(SOI):
        return inspect_jpeg(data, max_scans)
    return _pillow_header(data)


def inspect_jpeg(data: bytes, max_scans: int) -> ImageHeader:
    walker = JpegWalker(max_scans)
    walker.feed(data)
    if walker.size is None:
        raise HeaderUnreadable("JPEG without a frame header")
    return ImageHeader("JPEG", walker.size[0], walker.size[1], walker.scans)


class JpegWalker:
    """Walks a JPEG's markers as its bytes arrive (all at once, or block by block from a chip):
    frame size and scans counted so far. Stops past `max_scans` or at EOI; linear overall."""

    def __init__(self, max_scans: int):
        self.max_scans = max_scans
        self.buffer = bytearray()
        self.offset = 2  # after SOI
        self.in_scan = False  # inside entropy-coded data
        self.size: tuple[int, int] | None = None
        self.scans = 0
        self.done = False

    def feed(self, piece: bytes) -> None:
        self.buffer += piece
        if len(self.buffer) >= 2 and self.buffer[:2] != SOI:
            raise HeaderUnreadable("not a JPEG")
        while not self.done and self._step():
            pass

    def _step(self) -> bool:
        """One marker (or the rest of a scan); False when more bytes are needed."""
        data = self.buffer
        if self.in_scan:
            end = _entropy_end(data, self.offset)
            if end is None:
                self.offset = max(self.offset, len(data) - 1)
                return False
            self.offset, self.in_scan = end, False
        found = _next_marker(data, self.offset)
        if found is None:
            return False
        marker, at = found
        if marker == EOI:
            self.done = True
        elif marker in STANDALONE:
            self.offset = at
        else:
            return self._segment(marker, at)
        return True

    def _segment(self, marker: int, at: int) -> bool:
        data = self.buffer
        if at + 2 > len(data):
            return False
        length = int.from_bytes(data[at:at + 2], "big")
        if length < 2:
            raise HeaderUnreadable("JPEG segment length out of range")
        if at + length > len(data):
            return False  # the segment has not fully arrived
        if marker in SOF_MARKERS and self.size is None:
            self.size = _frame_size(bytes(data[at + 2:at + length]))
        self.offset = at + length
        if marker == SOS:
            self.scans += 1
            self.in_scan = True
            self.done = self.scans > self.max_scans
        return True


def _next_marker(data: bytearray, offset: int) -> tuple[int, int] | None:
    """(marker, offset after it), or None when the data ends first."""
    if offset >= len(data):
        return None
    if data[offset] != 0xFF:
        raise HeaderUnreadable("JPEG marker expected")
    while offset < len(data) and data[offset] == 0xFF:  # fill bytes may precede a marker
        offset += 1
    if offset >= len(data):
        return None
    return data[offset], offset + 1


def _frame_size(frame: bytes) -> tuple[int, int]:
    if len(frame) < 5:
        raise HeaderUnreadable("JPEG frame header too short")
    height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
    return width, height


def _entropy_end(data: bytearray, offset: int) -> int | None:
    """Offset of the first marker after entropy-coded data (FF00 is a stuffed byte, FFD0-D7 restarts);
    None when the data ends first."""
    while True:
        offset = data.find(b"\xff", offset)
        if offset < 0 or offset + 1 >= len(data):
            return None
        following = data[offset + 1]
        if following != 0x00 and following not in STANDALONE and following != 0xFF:
            return offset
        offset += 1 if following == 0xFF else 2


def _pillow_header(data: bytes) -> ImageHeader:
    from PIL import Image  # reads the header only: nothing is decoded here

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                return ImageHeader(probe.format or "unknown", probe.size[0], probe.size[1])
    except Exception as exc:  # Pillow raises many unrelated types for hostile headers
        raise HeaderUnreadable(f"unrecognised image format ({type(exc).__name__})") from None
