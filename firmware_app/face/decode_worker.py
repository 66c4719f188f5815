"""The image decode worker (`python -m firmware_app.face.decode_worker`), started by face.untrusted.

Warms up first (imports the decoders of the kinds named on its command line and decodes a tiny image
with each), says it is ready, then reads framed requests on stdin and answers on stdout
(face.decode_protocol) until stdin closes. The caller waits for the ready byte outside an image's
time limit. It runs niced: a long decode competes with the lane for the CPU but always loses.
"""
from __future__ import annotations

import io
import os
import sys

from firmware_app.face import decode_protocol as protocol
from firmware_app.face.errors import ImageUnreadable
from firmware_app.face.portrait_decode import decode_portrait_bgr

NICENESS = 10


def _read_exactly(stream, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _answer(kind: str, data: bytes) -> bytes:
    try:
        height, width, bgr = decode_portrait_bgr(data) if kind == "portrait" else _opencv_decode(data)
    except ImageUnreadable as exc:
        return protocol.error_answer(str(exc))
    except Exception as exc:  # a decoder bug must not end the worker; the type is the reason
        return protocol.error_answer(f"decoder failed ({type(exc).__name__})")
    return protocol.image_answer(height, width, bgr)


def _opencv_decode(data: bytes) -> tuple[int, int, bytes]:
    from firmware_app.face.images import decode_image  # OpenCV: imported only when a photo comes
    image = decode_image(data)
    return image.shape[0], image.shape[1], image.tobytes()


def _tiny_jpeg() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


def warm_up(kinds: list[str]) -> None:
    """Import and run each decoder once, so that no traveller's time limit pays for it."""
    sample = _tiny_jpeg()
    for kind in kinds:
        if kind in protocol.KINDS:
            _answer(kind, sample)   # a failure shows again, typed, on the first real image


def main() -> int:
    os.nice(NICENESS)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    warm_up(sys.argv[1:])
    sink.write(protocol.READY)
    sink.flush()
    while True:
        header = _read_exactly(source, protocol.REQUEST_HEADER)
        if header is None:
            return 0
        kind, size = protocol.parse_request_header(header)
        data = _read_exactly(source, size)
        if data is None:
            return 0
        sink.write(_answer(kind, data))
        sink.flush()


if __name__ == "__main__":
    raise SystemExit(main())
