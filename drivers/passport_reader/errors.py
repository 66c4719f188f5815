"""Errors of the passport reader driver, placed under the shared driver error tree."""
from __future__ import annotations

from drivers.errors import DriverError, DriverUnavailable, UnknownBackend


class ReaderError(DriverError):
    """Base of every passport reader error."""


class ReaderUnavailable(ReaderError, DriverUnavailable):
    """The reader is unplugged, vanished or cannot be opened; the driver keeps retrying."""


class UnknownReaderUrl(ReaderError, UnknownBackend):
    """The URL names no serial backend (e.g. `sim://`, which the app layer must map itself)."""


class ReaderSettingsError(ReaderError, ValueError):
    """Driver settings that cannot work (unknown framing, inverted backoff bounds, ...)."""


class FrameEncodeError(ReaderError, ValueError):
    """Lines cannot be put into the requested framing (wrong count, length or characters)."""


class ReaderClosed(ReaderError):
    """The driver was used after close()."""
