"""Which reader URLs this driver opens. Only serial ones: `sim://` belongs to the app layer."""
from __future__ import annotations

import re

from drivers.errors import UnknownReaderUrl

# pyserial URL handlers that make sense for a passport reader
SERIAL_SCHEMES = frozenset({"loop", "socket", "rfc2217", "spy", "alt", "hwgrep"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_WINDOWS_PORT = re.compile(r"^COM[0-9]{1,3}$")


def check_serial_url(url: str) -> str:
    """Return the URL if pyserial's serial_for_url should open it, else raise UnknownReaderUrl."""
    if not isinstance(url, str) or not url.strip():
        raise UnknownReaderUrl("reader URL is empty")
    match = _SCHEME.match(url)
    if match:
        scheme = match.group(1).lower()
        if scheme == "sim":
            raise UnknownReaderUrl("sim:// is the simulated reader; the serial driver does not open it")
        if scheme not in SERIAL_SCHEMES:
            raise UnknownReaderUrl(f"unknown reader URL scheme {scheme!r}")
        return url
    if url.startswith("/") or _WINDOWS_PORT.match(url):
        return url
    raise UnknownReaderUrl("reader URL must be a device path (/dev/...) or a pyserial URL")
