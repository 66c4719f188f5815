"""A chip session: one transport, optional secure messaging, and a redacted APDU log.

The log keeps headers, lengths and status words only (never command or response data) so it may
be shown to technicians; counters feed the read statistics.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.errors import CardRemoved, CardReset, DriverError
from drivers.smartcard import Transceiver
from firmware_app.emrtd.apdu import CommandApdu, ResponseApdu
from firmware_app.emrtd.errors import CardRemovedDuringRead, CardResetDuringRead, TransportError
from firmware_app.emrtd.sm import SecureMessaging


@dataclass(frozen=True)
class ApduLogEntry:
    step: str
    header: str  # CLA INS P1 P2 of the plain command, hex
    data_len: int
    ne: int
    protected: bool
    sw: int
    response_len: int

    def redacted(self) -> str:
        sm = " SM" if self.protected else ""
        answer = f"{self.sw:04X} ({self.response_len} B)"
        return f"{self.step}: {self.header} Lc={self.data_len} Le={self.ne}{sm} -> {answer}"


MAX_LOG_ENTRIES = 1024  # a genuine read takes 20-300 APDUs; a hostile chip may force thousands


@dataclass
class ApduLog:
    """Bounded: past MAX_LOG_ENTRIES, entries from the middle are dropped (the first ones, which
    show authentication, and the latest ones, which show how it ended, are kept)."""
    entries: list[ApduLogEntry] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_received: int = 0
    dropped: int = 0

    @property
    def count(self) -> int:
        """APDUs exchanged, including those dropped from the log."""
        return len(self.entries) + self.dropped

    def add(self, entry: ApduLogEntry) -> None:
        if len(self.entries) >= MAX_LOG_ENTRIES:
            del self.entries[MAX_LOG_ENTRIES // 2]
            self.dropped += 1
        self.entries.append(entry)


class Session:
    def __init__(self, transceiver: Transceiver, log: ApduLog | None = None,
                 guard: Callable[[], None] | None = None):
        self.transceiver = transceiver
        self.log = log if log is not None else ApduLog()
        self.sm: SecureMessaging | None = None
        self.guard = guard  # called before every APDU: raises to stop the read (budget, cancel)
        self.transmitted = 0  # every APDU sent, answered or not (the per-file budgets count these)

    def check_guard(self) -> None:
        """Run the guard between steps too (before a computation that sends no APDU)."""
        if self.guard is not None:
            self.guard()

    def start_secure_messaging(self, sm: SecureMessaging) -> None:
        self.sm = sm

    def end_secure_messaging(self) -> None:
        self.sm = None

    def send(self, command: CommandApdu, step: str) -> ResponseApdu:
        """Send a plain command (protected when SM is on); returns the plain response."""
        if self.guard is not None:
            self.guard()
        sm = self.sm
        raw_command = sm.wrap(command) if sm else command.encode()
        raw = ResponseApdu.parse(self._transmit(raw_command))
        response = sm.unwrap(raw) if sm else raw
        self._record(step, command, raw_command, raw, response, sm is not None)
        return response

    def _transmit(self, apdu: bytes) -> bytes:
        self.transmitted += 1
        try:
            return self.transceiver.transmit(apdu)
        except CardRemoved as exc:
            raise CardRemovedDuringRead("card removed during the exchange") from exc
        except CardReset as exc:  # still there, but the chip forgot the session's keys
            self.end_secure_messaging()
            raise CardResetDuringRead("card reset during the exchange") from exc
        except DriverError as exc:
            raise TransportError(f"transport failed: {exc}") from exc

    def _record(self, step: str, command: CommandApdu, raw_command: bytes, raw: ResponseApdu,
                response: ResponseApdu, protected: bool) -> None:
        self.log.bytes_sent += len(raw_command)
        self.log.bytes_received += len(raw.data) + 2
        self.log.add(ApduLogEntry(step, command.header().hex().upper(), len(command.data),
                                             command.ne, protected, response.sw, len(response.data)))


Rng = Callable[[int], bytes]
