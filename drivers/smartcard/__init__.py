"""Smartcard transport: `Transceiver.transmit(apdu) -> response` chosen by URL.

`pcsc://<reader name pattern>` is the PC/SC backend (the only importer of pyscard, loaded lazily).
`ScriptedTransceiver` (drivers.smartcard.scripted) replays command/response pairs for tests.
"""
from __future__ import annotations

import abc

from drivers.errors import UnknownBackend


class Transceiver(abc.ABC):
    """One link to one card. `transmit` is all a backend must write; the optional capabilities
    below have defaults here (as python-can's BusABC does), so callers use them without probing."""

    # Whether the link carries extended-length APDUs (the card's ATR and the reader's limit);
    # None: it cannot tell, and the chip layer decides from EF.ATR/INFO.
    extended_length: bool | None = None
    # The most data one APDU may carry over this link (a reader's PC/SC part 10 dwMaxAPDUDataSize,
    # when above a short APDU's 256); None: no limit beyond the APDU format's own.
    max_apdu_data: int | None = None

    @abc.abstractmethod
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return response data followed by SW1 SW2."""

    def close(self) -> None:  # noqa: B027 - an optional capability with its default, not abstract
        """Release the card; a link that holds nothing has nothing to do."""


PCSC_SCHEME = "pcsc://"


def open_transceiver(url: str, timeout_s: float = 0.0, *, session_timeout_s: float | None = None,
                     exclusive: bool = True) -> Transceiver:
    """Open the backend named by url, waiting up to timeout_s for a card (0: it must be there).
    The session holds the card exclusively and ends with ChipReadTimeout after session_timeout_s.

    An unknown scheme is an error, never a silent fallback."""
    if url.startswith(PCSC_SCHEME):
        from drivers.smartcard.pcsc import PcscTransceiver
        return PcscTransceiver.open(url[len(PCSC_SCHEME):], timeout_s=timeout_s, exclusive=exclusive,
                                    session_timeout_s=session_timeout_s)
    raise UnknownBackend(f"no smartcard backend for {url!r} (expected pcsc://<reader pattern>)")
