"""The byte framing between face.untrusted and its decode worker (no pickles either way).

ready:   b"W" once, when the worker has imported and tried its decoders
request: b"R", kind (1 byte: 0 portrait, 1 image), length (4 bytes), image bytes
answer:  b"O", height, width (4 bytes each), channels (1 byte), height*width*channels pixel bytes
         b"E", length (2 bytes), UTF-8 reason
"""
from __future__ import annotations

from .errors import ImageDecodeAbandoned, ImageUnreadable

KINDS = ("portrait", "image")
MAX_ANSWER_PIXELS = 40_000_000
REQUEST_HEADER = 6
READY = b"W"


def request(kind: str, data: bytes) -> bytes:
    return b"R" + bytes([KINDS.index(kind)]) + len(data).to_bytes(4, "big") + data


def parse_request_header(header: bytes) -> tuple[str, int]:
    if len(header) != REQUEST_HEADER or header[:1] != b"R" or header[1] >= len(KINDS):
        raise ValueError("malformed decode request")
    return KINDS[header[1]], int.from_bytes(header[2:6], "big")


def image_answer(height: int, width: int, bgr: bytes) -> bytes:
    if len(bgr) != height * width * 3:
        raise ValueError("pixel bytes do not match the size")
    return b"O" + height.to_bytes(4, "big") + width.to_bytes(4, "big") + b"\x03" + bgr


def error_answer(reason: str) -> bytes:
    text = reason.encode("utf-8", "replace")[:1000]
    return b"E" + len(text).to_bytes(2, "big") + text


class AnswerReader:
    """Collects an answer from chunks; `result()` once `complete`."""

    def __init__(self):
        self.buffer = bytearray()
        self.needed: int | None = None

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        if self.needed is None:
            self.needed = self._size()

    @property
    def complete(self) -> bool:
        return self.needed is not None and len(self.buffer) >= self.needed

    def _size(self) -> int | None:
        kind = self.buffer[:1]
        if kind == b"E" and len(self.buffer) >= 3:
            return 3 + int.from_bytes(self.buffer[1:3], "big")
        if kind == b"O" and len(self.buffer) >= 10:
            height, width = int.from_bytes(self.buffer[1:5], "big"), int.from_bytes(self.buffer[5:9], "big")
            if self.buffer[9] != 3 or not 0 < height * width <= MAX_ANSWER_PIXELS:
                raise ImageDecodeAbandoned("the image decoder answered out of bounds")
            return 10 + height * width * 3
        if kind not in (b"E", b"O", b""):
            raise ImageDecodeAbandoned("the image decoder answered garbage")
        return None

    def result(self):
        """HxWx3 uint8 BGR array (numpy only here: the worker does without it)."""
        import numpy as np

        if self.buffer[:1] == b"E":
            raise ImageUnreadable(self.buffer[3:self.needed].decode("utf-8", "replace"))
        height, width = int.from_bytes(self.buffer[1:5], "big"), int.from_bytes(self.buffer[5:9], "big")
        pixels = np.frombuffer(bytes(self.buffer[10:self.needed]), dtype=np.uint8)
        return pixels.reshape(height, width, 3).copy()
