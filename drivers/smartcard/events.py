"""Card presence for one reader, from pcscd's reader state (SCardGetStatusChange).

Nothing here connects to the card: a connect/disconnect poll resets (unpowers) the card by
default, destroying the secure-messaging session of a chip read in progress on another handle.
`card_present` asks once; `CardWatcher` blocks in SCardGetStatusChange on its own context and
reports INSERTED/REMOVED as pcscd sees them (SCardCancel wakes it on stop).
"""
from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from smartcard.scard import (
    SCARD_E_TIMEOUT,
    SCARD_S_SUCCESS,
    SCARD_SCOPE_USER,
    SCARD_STATE_CHANGED,
    SCARD_STATE_PRESENT,
    SCARD_STATE_UNAVAILABLE,
    SCARD_STATE_UNAWARE,
    SCARD_STATE_UNKNOWN,
    SCardCancel,
    SCardEstablishContext,
    SCardGetStatusChange,
    SCardListReaders,
    SCardReleaseContext,
)

from drivers.errors import ReaderNotFound
from drivers.smartcard.readers import choose_reader

log = logging.getLogger(__name__)
_GONE = SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE


class CardEvent(enum.Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


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


class CardWatcher:
    def __init__(self, pattern: str, on_event: Callable[[CardEvent, bytes], None], interval_s: float = 0.2):
        self._context = _context()
        self._name = _reader_name(self._context, pattern)
        self._on_event, self._timeout_ms = on_event, max(1, int(interval_s * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="card-watcher", daemon=True)
        self._present: bytes | None = None

    def start(self) -> CardWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        SCardCancel(self._context)  # wakes the blocked SCardGetStatusChange at once
        self._thread.join(timeout=5)
        SCardReleaseContext(self._context)

    def _run(self) -> None:
        known = SCARD_STATE_UNAWARE
        while not self._stop.is_set():
            try:
                state = _state(self._context, self._name, known, self._timeout_ms)
            except ReaderNotFound as exc:
                log.warning("card watcher: %s", exc)
                self._changed(None)
                self._stop.wait(self._timeout_ms / 1000)
                known = SCARD_STATE_UNAWARE
                continue
            if state is not None:
                known = state.flags & ~SCARD_STATE_CHANGED
                self._changed(state.atr if state.present else None)

    def _changed(self, atr: bytes | None) -> None:
        if atr == self._present or self._stop.is_set():
            return
        if self._present is not None:
            self._on_event(CardEvent.REMOVED, self._present)
        if atr is not None:
            self._on_event(CardEvent.INSERTED, atr)
        self._present = atr
