"""The TLS context of the MQTT connection, with a client certificate that can be renewed under it.

`gatectl cert renew` swaps a new certificate and key into place while gate-app runs. paho builds a
TLS socket from one context for every (re)connection, so the connection hands paho this object and
calls `refresh()` just before each connection: when the certificate, key or CA file changed (inode,
mtime or size), a fresh `ssl.SSLContext` is built from them and used from then on. A fresh context,
never a reload into the live one: a pair caught half-swapped (the key renamed, the certificate not
yet) fails to load, and the previous context stays in use untouched until the next try.
"""
from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

from .errors import MqttSettingsError

log = logging.getLogger(__name__)
Stamp = tuple[tuple[int, int, int] | None, ...]


def _stamp(paths: tuple[Path, ...]) -> Stamp:
    """What a replacement changes: an atomic rename changes the inode, an edit the mtime or size."""
    stamps: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            stamps.append(None)
            continue
        stamps.append((info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def _context(ca_file: Path, cert_file: Path | None, key_file: Path | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)      # CERT_REQUIRED and hostname checks
    context.load_verify_locations(str(ca_file))
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file is not None else None)
    return context


class ClientTls:
    """What paho wraps its sockets with (`wrap_socket`, `check_hostname`), reloadable by `refresh()`."""

    def __init__(self, ca_file: Path, cert_file: Path | None, key_file: Path | None):
        self._files = (ca_file, cert_file, key_file)
        self._paths = tuple(p for p in self._files if p is not None)
        self._stamp = _stamp(self._paths)
        try:
            self._current = _context(ca_file, cert_file, key_file)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise MqttSettingsError(f"TLS setup failed: {exc}") from exc
        self.reloads = 0

    @property
    def check_hostname(self) -> bool:
        return self._current.check_hostname

    def wrap_socket(self, sock, **options) -> ssl.SSLSocket:
        return self._current.wrap_socket(sock, **options)

    def changed(self) -> bool:
        """The files differ from the ones the context in use was built from."""
        return _stamp(self._paths) != self._stamp

    def refresh(self) -> bool:
        """Rebuild from the files if they changed; True when a new context is now in use."""
        stamp = _stamp(self._paths)       # taken first: a change during the load is seen next time
        if stamp == self._stamp:
            return False
        try:
            fresh = _context(*self._files)
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.warning("MQTT client certificate changed but cannot be loaded (%s): the previous one "
                        "stays in use", exc)
            return False
        self._current, self._stamp = fresh, stamp
        self.reloads += 1
        log.info("MQTT client certificate reloaded from %s", self._files[1])
        return True
