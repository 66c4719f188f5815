"""Every error of the chip protocol layer (firmware_app.emrtd and its lds, pa, pace and chip_auth
packages), one tree under GateError (as python-can keeps its tree in one module).

A check that runs and fails is a result (ChipCheckResult, PaResult), not an error: these are for
what stops a read or makes a check impossible.
"""
from __future__ import annotations

from enum import Enum

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


class CardResetDuringRead(SecureMessagingError):
    """The card was reset under the session (the transport reconnected; the card is still there)
    and its secure-messaging keys are gone: the reader re-authenticates, as after any lost session."""


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


# --- Reading: transport, files, budget ---


class TransportError(EmrtdError):
    """The transport failed for another reason than card removal."""


class FileNotFound(ReadError):
    """SELECT answered 6A82: the file is not on this chip."""


class FileTooLarge(ReadError):
    """The file's header announces more bytes than such a file may hold: refused unread."""


class ReadCancelled(EmrtdError):
    """The caller gave up on the read (its transaction ended): stopped between two APDUs."""


class ReadBudgetExceeded(ReadError):
    """A file needed more APDUs, or the document more time, than its budget allows."""


# --- Crypto inputs ---


class InvalidPoint(EmrtdError):
    """Bytes or coordinates that are not a usable point of the curve's prime-order group."""


class InvalidDomain(EmrtdError):
    """DH domain parameters out of range: refused before any arithmetic."""


class CamError(EmrtdError):
    """The chip authentication data of PACE-CAM is missing, malformed or does not verify."""


# --- Active / chip authentication inputs (no usable key, unsupported algorithm, malformed key) ---


class ChipCheckError(EmrtdError):
    """Base of AA/CA errors."""


class ChipAuthUnavailable(ChipCheckError):
    """DG14 offers no chip-authentication protocol/key pair this build can use."""


class BadChipKey(ChipCheckError):
    """The chip's public key (DG14/DG15) or its ephemeral answer is malformed or off the curve."""


# --- LDS parsing (data groups, EF.COM, EF.SOD) ---


class LdsError(EmrtdError):
    """Base of every LDS parsing error: which file, and why."""

    def __init__(self, file_name: str, reason: str):
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"{file_name}: {reason}")


class LdsFormatError(LdsError):
    """A file is malformed: wrong tag, bad length, missing element, garbage."""


class LdsUnsupported(LdsError):
    """A file is well formed but uses a format or algorithm this build does not handle."""


class SodContentTypeError(LdsUnsupported):
    """The SOD encapsulates something other than an LDS security object under any known OID."""


# --- Passive authentication and the trust store ---


class PaError(EmrtdError):
    """Base of passive-authentication errors."""


class UnsupportedAlgorithm(PaError):
    """A signature, hash or key algorithm (or curve) this build does not implement."""


class BadPublicKey(PaError):
    """A public key is malformed (point off the curve, absurd parameters)."""


class TrustStoreError(PaError):
    """A trust-store file or directory cannot be used."""


class MlRefusal(Enum):
    """Why a master list was refused."""

    MALFORMED = "ML_MALFORMED"
    NOT_SIGNED = "ML_NOT_SIGNED"
    SIGNATURE_INVALID = "ML_SIGNATURE_INVALID"
    SIGNER_NOT_PINNED = "ML_SIGNER_NOT_PINNED"  # signer chains to no configured root


class MasterListError(TrustStoreError):
    """An ICAO master list is malformed, its signature does not verify, or its signer is not pinned."""

    def __init__(self, message: str, reason: MlRefusal = MlRefusal.MALFORMED):
        self.reason = reason
        super().__init__(message)
