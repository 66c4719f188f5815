"""Errors of the chip protocol layer (firmware_app.emrtd), a branch of GateError.

Other emrtd sub-packages (lds, pa, auth) derive their errors from EmrtdError too.
"""
from __future__ import annotations

from firmware_app.errors import GateError


class EmrtdError(GateError):
    """Base of every chip-protocol error."""


class TlvError(EmrtdError):
    """BER-TLV data is malformed, truncated, too deep or too long."""


class ApduError(EmrtdError):
    """An APDU could not be built (bad sizes) or a response is too short."""


class StatusWordError(EmrtdError):
    """The chip answered a command with an error status word."""

    def __init__(self, step: str, sw: int, message: str = ""):
        self.step = step
        self.sw = sw
        super().__init__(f"{step}: chip answered SW={sw:04X}{' ' + message if message else ''}")


class SecureMessagingError(EmrtdError):
    """Secure messaging broke (bad MAC, missing objects, bad padding): the session is over."""


class ResponseMacError(SecureMessagingError):
    """The chip's response MAC did not verify: the session has been ended."""


class AuthenticationError(EmrtdError):
    """BAC or PACE failed (wrong keys, wrong MRZ/CAN, chip refused, cryptogram mismatch)."""

    def __init__(self, protocol: str, reason: str):
        self.protocol = protocol
        self.reason = reason
        super().__init__(f"{protocol}: {reason}")


class UnsupportedProtocol(EmrtdError):
    """The chip offers only protocols/parameters this build does not implement."""


class ChipNotImplemented(NotImplementedError, EmrtdError):
    """A chip feature that is deliberately not implemented yet."""


class PaceMappingNotImplemented(ChipNotImplemented, UnsupportedProtocol):
    """The chip offers PACE only with integrated or chip-authentication mapping (generic only here).

    A subclass of UnsupportedProtocol, so an MRZ key still falls back to BAC (recorded as such)."""


class CardRemovedDuringRead(EmrtdError):
    """The document left the reader before the read finished."""


class ReadError(EmrtdError):
    """A file could not be read even after retries and re-authentication."""

    def __init__(self, file_name: str, reason: str):
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"reading {file_name}: {reason}")
