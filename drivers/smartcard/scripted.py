"""A transceiver that replays an exact script of command -> response pairs (for unit tests)."""
from __future__ import annotations

from collections.abc import Iterable

from drivers.errors import ScriptMismatch
from drivers.smartcard import Transceiver


class ScriptedTransceiver(Transceiver):
    def __init__(self, script: Iterable[tuple[bytes, bytes]]):
        self._script = list(script)
        self._position = 0
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(bytes(apdu))
        if self._position >= len(self._script):
            raise ScriptMismatch(f"unexpected extra command {apdu.hex().upper()}")
        expected, response = self._script[self._position]
        if bytes(apdu) != expected:
            raise ScriptMismatch(
                f"command #{self._position}: expected {expected.hex().upper()}, got {apdu.hex().upper()}")
        self._position += 1
        return response

    @property
    def finished(self) -> bool:
        return self._position == len(self._script)

    def assert_finished(self) -> None:
        if not self.finished:
            raise ScriptMismatch(f"{len(self._script) - self._position} scripted commands were never sent")
