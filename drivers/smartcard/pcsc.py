"""PC/SC backend (pyscard): the only place (with events.py) that imports `smartcard`.

One chip session = one exclusive connection: nothing else (the presence watcher, a concurrent
`gatectl chip read`) can connect and reset the card under an open secure-messaging session; a
second opener gets ReaderBusy. The reader is chosen by a name pattern (readers.py; several
matches are refused). T=0 or T=1 as the card offers, 61xx answered with GET RESPONSE, 6Cxx
answered by re-sending with the right Le. A card reset under the session (SCARD_W_RESET_CARD)
reconnects and raises CardReset so the chip layer re-authenticates. `extended_length` combines
the card's ATR with the reader's own limit (PC/SC part 10, see part10.py).
"""
from __future__ import annotations

import time
from collections.abc import Callable

from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.scard import (
    SCARD_CTL_CODE,
    SCARD_E_NO_SMARTCARD,
    SCARD_E_SHARING_VIOLATION,
    SCARD_LEAVE_CARD,
    SCARD_S_SUCCESS,
    SCARD_SHARE_EXCLUSIVE,
    SCARD_SHARE_SHARED,
    SCARD_UNPOWER_CARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCardControl,
    SCardStatus,
)
from smartcard.System import readers as list_readers

from drivers.errors import (
    AtrError,
    CardRemoved,
    CardReset,
    ChipReadTimeout,
    NoCardPresent,
    ReaderBusy,
    ReaderNotFound,
    TransmitFailed,
)
from drivers.smartcard import Transceiver
from drivers.smartcard.atr import parse_atr
from drivers.smartcard.part10 import (
    FEATURE_GET_TLV_PROPERTIES,
    combine_extended,
    max_apdu_data,
    parse_features,
    parse_properties,
    reader_allows_extended,
)
from drivers.smartcard.readers import choose_reader

STATUS_CHECKS, STATUS_INTERVAL_S = 6, 0.1
SCARD_PRESENT = 0x0004  # pcsc-lite SCardStatus state bit (pyscard does not export it)
MAX_GET_RESPONSE = 64  # bound the 61xx loop: a card that never stops is broken
CONNECT_RETRY_S = 0.05
MAX_RESETS_WHILE_OPENING = 3  # a card reset again and again is broken, not busy
CM_IOCTL_GET_FEATURE_REQUEST = SCARD_CTL_CODE(3400)
_REMOVED = {SCARD_W_REMOVED_CARD & 0xFFFFFFFF, SCARD_E_NO_SMARTCARD & 0xFFFFFFFF}
_RESET = SCARD_W_RESET_CARD & 0xFFFFFFFF
_SHARING = SCARD_E_SHARING_VIOLATION & 0xFFFFFFFF
_PROTOCOLS = CardConnection.T0_protocol | CardConnection.T1_protocol


def find_reader(pattern: str):
    """The one PC/SC reader the pattern names (AmbiguousReader when it names several)."""
    try:
        available = list_readers()
    except Exception as exc:  # pyscard raises assorted types when pcscd is absent
        raise ReaderNotFound(f"PC/SC is not available: {exc}") from exc
    by_name = {str(reader): reader for reader in available}
    return by_name[choose_reader(pattern, list(by_name))]


def _hresult(exc: Exception) -> int:
    return getattr(exc, "hresult", 0) & 0xFFFFFFFF


def _connect(reader, mode: int, timeout_s: float, clock: Callable[[], float]):
    """Connect, waiting up to timeout_s for a card and for another session to end."""
    deadline = clock() + max(0.0, timeout_s)
    while True:
        connection = reader.createConnection()
        try:
            connection.connect(_PROTOCOLS, mode, SCARD_UNPOWER_CARD)
            return connection
        except (NoCardException, CardConnectionException) as exc:
            busy = _hresult(exc) == _SHARING
            _release(connection)
            if clock() >= deadline:
                if busy:
                    raise ReaderBusy(f"another session holds the card in {reader}") from exc
                raise NoCardPresent(f"no card in {reader} after {timeout_s:g} s ({exc})") from exc
        time.sleep(CONNECT_RETRY_S)


def _release(connection) -> None:
    release = getattr(connection, "release", None)
    if release is not None:
        try:
            release()
        except CardConnectionException:
            pass  # pcscd already dropped the context


def _handle_of(connection):
    while not hasattr(connection, "hcard") and hasattr(connection, "component"):
        connection = connection.component  # pyscard wraps connections in decorators
    return connection.hcard


def _control(handle, code: int) -> bytes:
    result, answer = SCardControl(handle, code, [])
    return bytes(answer) if result & 0xFFFFFFFF == SCARD_S_SUCCESS else b""


def query_max_apdu_data(handle) -> int | None:
    """The reader's dwMaxAPDUDataSize (PC/SC part 10); None when it does not tell."""
    features = parse_features(_control(handle, CM_IOCTL_GET_FEATURE_REQUEST))
    code = features.get(FEATURE_GET_TLV_PROPERTIES)
    return None if code is None else max_apdu_data(parse_properties(_control(handle, code)))


def _has_short_le(apdu: bytes) -> bool:
    """Case 2 or case 4 short APDU: only then is the last byte Le (else it is command data)."""
    return len(apdu) == 5 or (len(apdu) > 5 and apdu[4] != 0 and len(apdu) == 6 + apdu[4])


class PcscTransceiver(Transceiver):
    def __init__(self, connection, reader_name: str, session_timeout_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, reader_max_apdu_data: int | None = None,
                 share_mode: int = SCARD_SHARE_EXCLUSIVE):
        self._connection = connection
        self.reader_name = reader_name
        self._clock = clock
        self._share_mode = share_mode  # kept on every reconnect
        self._deadline = None if session_timeout_s is None else clock() + session_timeout_s
        self.resets = 0
        self.atr = self._read_atr()
        self.card_extended_length = self._card_extended()
        self.reader_max_apdu_data = reader_max_apdu_data
        if reader_allows_extended(reader_max_apdu_data):
            self.max_apdu_data = reader_max_apdu_data
        self.extended_length = combine_extended(self.card_extended_length,
                                                reader_allows_extended(self.reader_max_apdu_data))

    @classmethod
    def open(cls, pattern: str, timeout_s: float = 0.0, *, exclusive: bool = True,
             session_timeout_s: float | None = None,
             clock: Callable[[], float] = time.monotonic) -> PcscTransceiver:
        """Connect to the card in the reader the pattern names, waiting up to timeout_s for it.
        `session_timeout_s` bounds the whole session (ChipReadTimeout once past)."""
        reader = find_reader(pattern)
        mode = SCARD_SHARE_EXCLUSIVE if exclusive else SCARD_SHARE_SHARED
        connection = _connect(reader, mode, timeout_s, clock)
        return cls(connection, str(reader), session_timeout_s, clock, query_max_apdu_data(_handle_of(connection)),
                   share_mode=mode)

    def _read_atr(self) -> bytes:
        """The ATR, through resets: pcscd powering up a card that has just arrived, or another
        shared handle, may reset it between SCardConnect and SCardStatus. Nothing is lost then
        (no session yet), so the handle is taken back and asked again."""
        for _ in range(MAX_RESETS_WHILE_OPENING):
            try:
                return bytes(self._connection.getATR())
            except CardConnectionException as exc:
                if _hresult(exc) != _RESET:
                    raise NoCardPresent(f"card status unavailable in {self.reader_name}: {exc}") from exc
                self._reconnect(exc)
        raise TransmitFailed(f"the card in {self.reader_name} keeps being reset")

    def _card_extended(self) -> bool | None:
        try:
            return parse_atr(self.atr).extended_length
        except AtrError:
            return None

    @property
    def protocol(self) -> str:
        return "T=1" if self._connection.getProtocol() == CardConnection.T1_protocol else "T=0"

    def transmit(self, apdu: bytes) -> bytes:
        if self._deadline is not None and self._clock() >= self._deadline:
            raise ChipReadTimeout("chip session ran past smartcard.read_timeout_s")
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
            if _hresult(exc) == _RESET:
                self._reconnect_after_reset(exc)
            if _hresult(exc) in _REMOVED or not self._card_still_there():
                raise CardRemoved("card removed") from exc
            raise TransmitFailed(f"PC/SC transmit failed: {exc}") from exc

    def _reconnect_after_reset(self, cause: Exception) -> None:
        """The card was reset under us: take the handle back and tell the caller its
        secure-messaging keys are gone (the chip layer re-authenticates and goes on)."""
        self._reconnect(cause)
        raise CardReset("the card was reset during the session; re-authenticate") from cause

    def _reconnect(self, cause: Exception) -> None:
        """SCardReconnect in the same sharing mode, leaving the card as it is now."""
        self.resets += 1
        try:
            self._connection.reconnect(_PROTOCOLS, self._share_mode, SCARD_LEAVE_CARD)
        except (NoCardException, CardConnectionException) as exc:
            raise CardRemoved("card removed after a reset") from exc

    def _card_still_there(self) -> bool:
        """After a failed exchange, ask pcscd (it may need one polling period to notice)."""
        for _ in range(STATUS_CHECKS):
            result = SCardStatus(self._handle())
            if result[0] != SCARD_S_SUCCESS or not result[2] & SCARD_PRESENT:
                return False
            time.sleep(STATUS_INTERVAL_S)
        return True

    def _handle(self):
        return _handle_of(self._connection)

    def close(self) -> None:
        self._connection.disposition = SCARD_UNPOWER_CARD  # a reconnect left it at LEAVE_CARD
        try:
            self._connection.disconnect()
        except CardConnectionException:
            pass  # the card is already gone; nothing left to disconnect
        _release(self._connection)
