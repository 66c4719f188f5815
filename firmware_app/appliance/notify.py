"""systemd's sd_notify protocol, written directly: one datagram to $NOTIFY_SOCKET.

    notifier = Notifier.from_environ(os.environ)
    notifier.send("READY=1")            # after the lane runs and the models are warm
    notifier.send("WATCHDOG=1")         # every watchdog_interval_s() while the lane makes progress

Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Mapping

log = logging.getLogger("gate.app.notify")


class Notifier:
    def __init__(self, address: str | None, watchdog_usec: int | None = None):
        self.address, self.watchdog_usec = address, watchdog_usec

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Notifier:
        address = environ.get("NOTIFY_SOCKET") or None
        try:
            usec = int(environ.get("WATCHDOG_USEC", "")) or None
        except ValueError:
            usec = None
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def watchdog_interval_s(self) -> float | None:
        """Half of systemd's WatchdogSec, as sd_watchdog_enabled(3) recommends."""
        return self.watchdog_usec / 2_000_000 if self.watchdog_usec else None

    def send(self, message: str) -> bool:
        if self.address is None:
            return False
        # "@name" is an abstract socket: its first byte on the wire is NUL.
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), target)
            return True
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", message.split("=")[0], exc.strerror)
            return False
