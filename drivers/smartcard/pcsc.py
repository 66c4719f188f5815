"""PC/SC backend (pyscard): the only place that imports `smartcard`.

Reader chosen by a name pattern (substring, or shell wildcards), T=0 or T=1 as the card offers,
61xx answered with GET RESPONSE, 6Cxx answered by re-sending with the right Le.
"""
from __future__ import annotations

import fnmatch
import time

from smartcard.CardConnection import CardConnection
from smartcard.CardRequest import CardRequest
from smartcard.Exceptions import CardConnectionException, CardRequestTimeoutException, NoCardException
from smartcard.scard import (
    SCARD_E_NO_SMARTCARD, SCARD_S_SUCCESS, SCARD_W_REMOVED_CARD, SCardStatus,
)
from smartcard.System import readers as list_readers

from drivers.smartcard.atr import AtrError, parse_atr
from drivers.smartcard.errors import CardRemoved, NoCardPresent, ReaderNotFound, TransmitFailed

STATUS_CHECKS, STATUS_INTERVAL_S = 6, 0.1
SCARD_PRESENT = 0x0004  # pcsc-lite SCardStatus state bit (pyscard does not export it)
MAX_GET_RESPONSE = 64  # bound the 61xx loop: a card that never stops is broken
_REMOVED = {SCARD_W_REMOVED_CARD & 0xFFFFFFFF, SCARD_E_NO_SMARTCARD & 0xFFFFFFFF}


def find_reader(pattern: str):
    """First PC/SC reader whose name matches pattern (wildcards) or contains it (case-insensitive)."""
    try:
        available = list_readers()
    except Exception as exc:  # pyscard raises assorted types when pcscd is absent
        raise ReaderNotFound(f"PC/SC is not available: {exc}") from exc
    wanted = pattern.lower()
    for reader in available:
        name = str(reader).lower()
        if fnmatch.fnmatch(name, wanted) or wanted in name:
            return reader
    names = ", ".join(str(r) for r in available) or "none"
    raise ReaderNotFound(f"no PC/SC reader matches {pattern!r} (readers: {names})")


def _wait_for_card(reader, timeout_s: float) -> None:
    try:
        CardRequest(readers=[reader], timeout=timeout_s).waitforcard()
    except CardRequestTimeoutException as exc:
        raise NoCardPresent(f"no card in {reader} after {timeout_s:g} s") from exc


def card_present(pattern: str) -> bool:
    """Whether pcscd currently reports a card in the matching reader (powered or not)."""
    try:
        CardRequest(readers=[find_reader(pattern)], timeout=0.01).waitforcard()
        return True
    except CardRequestTimeoutException:
        return False


def _has_short_le(apdu: bytes) -> bool:
    """Case 2 or case 4 short APDU: only then is the last byte Le (else it is command data)."""
    return len(apdu) == 5 or (len(apdu) > 5 and apdu[4] != 0 and len(apdu) == 6 + apdu[4])


class PcscTransceiver:
    def __init__(self, connection, reader_name: str):
        self._connection = connection
        self.reader_name = reader_name
        self.atr = bytes(connection.getATR())
        try:
            self.extended_length = parse_atr(self.atr).extended_length
        except AtrError:
            self.extended_length = None

    @classmethod
    def open(cls, pattern: str, timeout_s: float = 0.0) -> "PcscTransceiver":
        reader = find_reader(pattern)
        if timeout_s > 0:
            _wait_for_card(reader, timeout_s)
        connection = reader.createConnection()
        try:
            connection.connect(CardConnection.T0_protocol | CardConnection.T1_protocol)
        except NoCardException as exc:
            raise NoCardPresent(f"no card in {reader}") from exc
        except CardConnectionException as exc:
            raise NoCardPresent(f"cannot connect to the card in {reader}: {exc}") from exc
        return cls(connection, str(reader))

    @property
    def protocol(self) -> str:
        return "T=1" if self._connection.getProtocol() == CardConnection.T1_protocol else "T=0"

    def transmit(self, apdu: bytes) -> bytes:
        data, sw1, sw2 = self._raw(apdu)
        if sw1 == 0x6C and _has_short_le(apdu):
            data, sw1, sw2 = self._raw(apdu[:-1] + bytes([sw2]))  # card told us the right Le
        for _ in range(MAX_GET_RESPONSE):
            if sw1 != 0x61:
                return bytes(data) + bytes([sw1, sw2])
            more, sw1, sw2 = self._raw(bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw2]))
            data = data + more
        raise TransmitFailed("card keeps answering 61xx")

    def _raw(self, apdu: bytes) -> tuple[list[int], int, int]:
        try:
            return self._connection.transmit(list(apdu))
        except CardConnectionException as exc:
            if getattr(exc, "hresult", 0) & 0xFFFFFFFF in _REMOVED or not self._card_still_there():
                raise CardRemoved("card removed") from exc
            raise TransmitFailed(f"PC/SC transmit failed: {exc}") from exc

    def _card_still_there(self) -> bool:
        """After a failed exchange, ask pcscd (it may need one polling period to notice)."""
        for _ in range(STATUS_CHECKS):
            result = SCardStatus(self._handle())
            if result[0] != SCARD_S_SUCCESS or not result[2] & SCARD_PRESENT:
                return False
            time.sleep(STATUS_INTERVAL_S)
        return True

    def _handle(self):
        connection = self._connection
        while not hasattr(connection, "hcard") and hasattr(connection, "component"):
            connection = connection.component  # pyscard wraps connections in decorators
        return connection.hcard

    def close(self) -> None:
        try:
            self._connection.disconnect()
        except CardConnectionException:
            pass  # the card is already gone; nothing left to disconnect
        release = getattr(self._connection, "release", None)
        if release is not None:
            try:
                release()
            except CardConnectionException:
                pass  # pcscd already dropped the context
