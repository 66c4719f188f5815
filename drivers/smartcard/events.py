"""Card presence for one reader, from pcscd's reader state (SCardGetStatusChange).

Nothing here connects to the card: a connect/disconnect poll resets (unpowers) the card by
default, destroying the secure-messaging session of a chip read in progress on another handle.
Each query opens its own PC/SC context, so a pcscd restart (systemd, reader replug) costs the
queries made while it is down (ReaderNotFound) and nothing after: a long-lived context would
answer SCARD_E_NO_SERVICE for ever. The appliance polls `card_present` (PresenceWatch).
"""
from __future__ import annotations

from dataclasses import dataclass

from smartcard.scard import (
    SCARD_E_TIMEOUT,
    SCARD_S_SUCCESS,
    SCARD_SCOPE_USER,
    SCARD_STATE_PRESENT,
    SCARD_STATE_UNAVAILABLE,
    SCARD_STATE_UNAWARE,
    SCARD_STATE_UNKNOWN,
    SCardEstablishContext,
    SCardGetStatusChange,
    SCardListReaders,
    SCardReleaseContext,
)

from drivers.errors import ReaderNotFound
from drivers.smartcard.readers import choose_reader

_GONE = SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE


@dataclass(frozen=True)
class ReaderState:
    name: str
    present: bool
    atr: bytes
    flags: int   # pcscd's event state (with its change counter in the upper 16 bits)


def _ok(result: int) -> bool:
    return result & 0xFFFFFFFF == SCARD_S_SUCCESS


def _context() -> int:
    result, context = SCardEstablishContext(SCARD_SCOPE_USER)
    if not _ok(result):
        raise ReaderNotFound(f"PC/SC is not available (0x{result & 0xFFFFFFFF:08X})")
    return context


def _reader_name(context: int, pattern: str) -> str:
    result, names = SCardListReaders(context, [])
    return choose_reader(pattern, list(names) if _ok(result) else [])


def _state(context: int, name: str, known: int, timeout_ms: int) -> ReaderState | None:
    """The reader's state once it differs from `known` (None: nothing changed within timeout)."""
    result, states = SCardGetStatusChange(context, timeout_ms, [(name, known)])
    if result & 0xFFFFFFFF == SCARD_E_TIMEOUT & 0xFFFFFFFF:
        return None
    if not _ok(result) or not states:
        raise ReaderNotFound(f"PC/SC reader {name!r} state unavailable (0x{result & 0xFFFFFFFF:08X})")
    _, flags, atr = states[0]
    if flags & _GONE:
        raise ReaderNotFound(f"PC/SC reader {name!r} is gone")
    return ReaderState(name, bool(flags & SCARD_STATE_PRESENT), bytes(atr), flags)


def reader_state(pattern: str) -> ReaderState:
    context = _context()
    try:
        state = _state(context, _reader_name(context, pattern), SCARD_STATE_UNAWARE, 0)
        if state is None:       # an UNAWARE query answers at once; a timeout means no usable reader
            raise ReaderNotFound(f"PC/SC reader {pattern!r} gave no state")
        return state
    finally:
        SCardReleaseContext(context)


def card_present(pattern: str) -> bool:
    """Whether pcscd reports a card in the matching reader (ReaderNotFound when it is gone)."""
    return reader_state(pattern).present
