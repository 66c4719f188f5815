"""Smartcard transport errors (branches of the driver error tree)."""
from __future__ import annotations

from drivers.errors import DriverError, DriverIOError, DriverTimeout, DriverUnavailable


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


class AmbiguousReader(DriverUnavailable):
    """The reader name pattern matches several PC/SC readers (e.g. a contact and a contactless
    slot of one device); the message lists them so the pattern can be made specific."""


class ReaderBusy(DriverUnavailable):
    """Another process holds the card exclusively (a chip session in progress)."""


class CardReset(DriverIOError):
    """The card was reset under the session (PC/SC SCARD_W_RESET_CARD): it is still there and the
    transport reconnected, but every secure-messaging key is gone. Re-authenticate (BAC/PACE),
    then continue; it is not a removal."""


class ChipReadTimeout(DriverTimeout):
    """The session ran past its time budget (`smartcard.read_timeout_s`)."""
