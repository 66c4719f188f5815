"""Every error of the hardware boundary, one tree: the shared base classes, then each driver's
branches (as python-can keeps its whole tree in one module). Callers decide by type."""
from __future__ import annotations


class DriverError(Exception):
    """Base of all driver errors."""


class DriverUnavailable(DriverError):
    """The device is absent, unplugged or could not be opened."""


class DriverTimeout(DriverError):
    """The device did not answer in time."""


class DriverIOError(DriverError):
    """The device answered with something unusable or the link broke."""


class UnknownBackend(DriverError):
    """A device URL names a backend this build does not have."""


# --- Passport reader ---


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


# --- Smartcard transport ---


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


class AtrError(DriverIOError):
    """The ATR is malformed."""


# --- Camera ---


class CameraStalled(DriverTimeout):
    """The camera delivered no frame within the stall timeout."""


# --- Gate and its door safety controller ---


class UnknownPinFactory(UnknownBackend, DriverUnavailable):
    """The configured pin factory name is not one this build knows."""


class ProtocolError(DriverIOError):
    """A safety-controller protocol line that is too long, not JSON, or not a message of this
    protocol version."""


class InterlockRefused(DriverIOError):
    """The controller refused the command (its interlock); `reason` is a protocol.Refusal."""

    def __init__(self, op: str, reason: str):
        super().__init__(f"{op} refused by the safety controller: {reason}")
        self.reason = reason


class SettingsError(ValueError):
    """The config file cannot drive the door safety controller (missing, unreadable, or a bad
    [gate] value)."""
