"""Logs straight to journald with structured fields, in its native datagram protocol (stdlib only).

Under systemd (JOURNAL_STREAM names our stderr) every record becomes one journal entry with
PRIORITY, SYSLOG_IDENTIFIER, GATE_EVENT (a stable event code: `extra={"event": "..."}` or the
logger name), LOGGER and the code location, so `journalctl -p err -u gate-app` and
`journalctl GATE_EVENT=...` find it. Elsewhere logging stays plain text on stderr.
"""
from __future__ import annotations

import logging
import os
import socket
import struct
import sys
from collections.abc import Mapping

JOURNAL_SOCKET = "/run/systemd/journal/socket"
MAX_VALUE = 32 * 1024     # one datagram per record: bounded, never a memfd hand-over
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def priority(levelno: int) -> int:
    """syslog priority: 2 crit, 3 err, 4 warning, 6 info, 7 debug."""
    for floor, value in ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)):
        if levelno >= floor:
            return value
    return 7


def encode_field(key: str, value: str) -> bytes:
    data = value.encode("utf-8", "replace")[:MAX_VALUE]
    if b"\n" not in data:
        return key.encode() + b"=" + data + b"\n"
    # A value with a newline goes as KEY \n <64-bit little-endian length> <bytes> \n.
    return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


class JournalHandler(logging.Handler):
    def __init__(self, identifier: str, path: str = JOURNAL_SOCKET):
        super().__init__()
        self.identifier = identifier
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def fields(self, record: logging.LogRecord) -> dict[str, str]:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        return {"MESSAGE": message, "PRIORITY": str(priority(record.levelno)),
                "SYSLOG_IDENTIFIER": self.identifier, "GATE_EVENT": str(getattr(record, "event", record.name)),
                "LOGGER": record.name, "CODE_FILE": record.pathname, "CODE_LINE": str(record.lineno),
                "CODE_FUNC": record.funcName, "THREAD_NAME": record.threadName or ""}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            payload = b"".join(encode_field(k, v) for k, v in self.fields(record).items())
            self.sock.sendto(payload, self.path)
        except Exception:  # logging must never take the lane down; logging's own hook reports it
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


def stderr_is_journal(environ: Mapping[str, str], stream_fd: int = 2) -> bool:
    """JOURNAL_STREAM is "device:inode" of the journal stream systemd gave us; it must still be
    our stderr (a child whose stderr was redirected inherits the variable but not the stream)."""
    try:
        device, inode = (int(part) for part in environ["JOURNAL_STREAM"].split(":"))
        stat = os.fstat(stream_fd)
    except (KeyError, ValueError, OSError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def configure_logging(level: str, identifier: str, environ: Mapping[str, str] = os.environ,
                      path: str = JOURNAL_SOCKET) -> logging.Handler:
    """Like logging.basicConfig: a root logger that already has handlers is left as it is."""
    root = logging.getLogger()
    if root.handlers:
        return root.handlers[0]
    if stderr_is_journal(environ) and os.path.exists(path):
        handler: logging.Handler = JournalHandler(identifier, path)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
