"""`gatectl status`'s side of the status socket."""
from __future__ import annotations

import json
import socket
from pathlib import Path

from .errors import StatusUnavailable

MAX_ANSWER = 1 << 20


def query(path: Path, timeout_s: float = 5.0) -> dict:
    """The running appliance's snapshot; StatusUnavailable when nobody answers usefully."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            sock.sendall(b"status\n")
            answer = _read_all(sock)
    except (TimeoutError, OSError) as exc:
        raise StatusUnavailable(f"no answer on {path}: {exc.strerror or exc} (is gate-app running? are you in "
                                f"its group?)") from None
    try:
        body = json.loads(answer)
    except ValueError:
        raise StatusUnavailable(f"{path} answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise StatusUnavailable(f"{path} answered something that is not a status")
    return body


def _read_all(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER:
            raise OSError("answer too large")
