"""Smartcard transport errors (branches of the driver error tree)."""
from __future__ import annotations

from drivers.errors import DriverError, DriverIOError, DriverUnavailable


class ReaderNotFound(DriverUnavailable):
    """No PC/SC reader matches the configured name pattern."""


class NoCardPresent(DriverUnavailable):
    """The reader is there but holds no card."""


class CardRemoved(DriverIOError):
    """The card left the field during an exchange."""


class TransmitFailed(DriverIOError):
    """The reader or the card link failed while sending an APDU."""


class ScriptMismatch(DriverError):
    """A scripted transceiver received a command other than the expected one."""
