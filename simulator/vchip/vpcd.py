"""The vsmartcard vpcd protocol, card side: connect to pcscd's vpcd driver and answer it.

Each message is a 2-byte big-endian length and a payload. A 1-byte payload is a control
message (00 power off, 01 power on, 02 reset, 04 send the ATR); anything longer is an APDU.
TCP_NODELAY is set: without it Debian's vpcd adds ~45 ms to every APDU.
"""
from __future__ import annotations

import enum
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 35963


class Control(enum.IntEnum):
    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    GET_ATR = 0x04


class Card(Protocol):
    def process(self, apdu: bytes) -> bytes: ...

    def reset(self) -> None: ...


def card_atr(extended_length: bool) -> bytes:
    """A T=1 ATR whose compact-TLV card capabilities announce extended length when supported."""
    capabilities = 0x80 | (0x40 if extended_length else 0x00)  # command chaining, extended Lc/Le
    historical = bytes([0x80, 0x73, 0x00, 0x00, capabilities])
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical  # T0, TD1 (T=0, TD2), TD2 (T=1)
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3B" + body + bytes([check])


class VpcdCard:
    """Runs in a thread; `remove()` drops the link (pcscd then reports the card removed)."""

    def __init__(self, card: Card, atr: bytes, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 delay_s: float = 0.0, sleep: Callable[[float], None] = time.sleep,
                 latency: Callable[[bytes, bytes], float] | None = None):
        self.card, self.atr, self.host, self.port = card, atr, host, port
        self.delay_s, self._sleep = delay_s, sleep
        self.latency = latency      # seconds an exchange takes on the air (simulator/timing.py)
        self.modelled_s = 0.0       # the sum of those seconds (reports: modelled chip time)
        self.remove_after_apdus: int | None = None
        self.apdus = 0
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def connect(self, timeout_s: float = 10.0) -> VpcdCard:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._socket = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # vpcd opens its port once pcscd has loaded the driver
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        self._stopping.set()
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                message = self._receive()
                if message is None:
                    return
                self._handle(message)
        except OSError:
            return  # link closed (removal or pcscd stopped)

    def _receive(self) -> bytes | None:
        header = self._exactly(2)
        return None if header is None else self._exactly(int.from_bytes(header, "big"))

    def _exactly(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            self._quick_ack()
            chunk = self._socket.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _quick_ack(self) -> None:
        # vpcd writes length and payload separately; with Nagle on its side, our delayed ACK
        # would stall every APDU ~40 ms. Linux resets QUICKACK after use, so set it each time.
        if hasattr(socket, "TCP_QUICKACK"):
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _handle(self, message: bytes) -> None:
        if len(message) == 1:
            if message[0] in (Control.POWER_ON, Control.RESET):
                self.card.reset()
            elif message[0] == Control.GET_ATR:
                self._send(self.atr)
            return
        if self.remove_after_apdus is not None and self.apdus >= self.remove_after_apdus:
            threading.Thread(target=self.remove, daemon=True).start()
            return
        self.apdus += 1
        if self.delay_s:
            self._sleep(self.delay_s)
        started = time.monotonic()
        response = self.card.process(message)
        if self.latency is not None:   # the answer comes when it would have crossed the air
            modelled = self.latency(message, response)
            self.modelled_s += modelled
            self._sleep(max(0.0, modelled - (time.monotonic() - started)))
        self._send(response)

    def _send(self, payload: bytes) -> None:
        self._socket.sendall(len(payload).to_bytes(2, "big") + payload)
