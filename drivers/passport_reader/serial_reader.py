"""The passport reader driver: a pyserial port read by one background thread.

The caller never waits on the device: `start()` returns at once, events arrive on a callback
(called from the reader thread; keep it short) or on an internal queue (`get_event`). When the
link breaks the driver reports `LinkChanged(DOWN, ReaderUnavailable)` once, then reopens the
port with exponential backoff until it is back (`LinkChanged(UP)`).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from drivers.errors import ReaderClosed, ReaderUnavailable
from drivers.passport_reader.backoff import Backoff
from drivers.passport_reader.events import DeviceMessage, LinkChanged, LinkState, ReaderEvent
from drivers.passport_reader.framing import FrameDecoder, decoder_for
from drivers.passport_reader.settings import Parity, ReaderSettings
from drivers.passport_reader.urls import check_serial_url

log = logging.getLogger(__name__)

EventCallback = Callable[[ReaderEvent], None]
Opener = Callable[[ReaderSettings, float], Any]  # returns an open pyserial-like port


_PARITY = {Parity.NONE: "N", Parity.EVEN: "E", Parity.ODD: "O", Parity.MARK: "M", Parity.SPACE: "S"}


def port_options(settings: ReaderSettings) -> dict[str, Any]:
    """pyserial keyword arguments for the configured line settings. `exclusive` takes an flock on
    the device: a second gate-app, `gatectl` or `gatesim` cannot read the same port and steal
    frames (ModemManager ignores flocks; the udev rule in config/udev keeps it away)."""
    return {"baudrate": settings.baudrate, "bytesize": settings.bytesize,
            "parity": _PARITY[settings.parity], "stopbits": settings.stopbits, "exclusive": True}


def open_serial(settings: ReaderSettings, read_timeout_s: float) -> Any:
    import serial  # the only hardware library of this driver, loaded when a port is opened

    return serial.serial_for_url(settings.url, timeout=read_timeout_s, **port_options(settings))


def _link_errors() -> tuple[type[BaseException], ...]:
    import serial

    return (serial.SerialException, OSError, ValueError)


class SerialPassportReader:
    def __init__(self, settings: ReaderSettings, on_event: EventCallback | None = None, *,
                 opener: Opener = open_serial, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] | None = None, read_timeout_s: float = 0.05,
                 decoder_factory: Callable[[ReaderSettings], FrameDecoder] = decoder_for) -> None:
        check_serial_url(settings.url)
        self.settings = settings
        self._on_event = on_event
        self._opener, self._clock, self._read_timeout_s = opener, clock, read_timeout_s
        self._decoder_factory = decoder_factory
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # default sleep wakes up on close()
        self._events: queue.SimpleQueue[ReaderEvent] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._state = LinkState.CONNECTING
        self._last_error: ReaderUnavailable | None = None
        self._port: Any = None
        self._thread: threading.Thread | None = None

    # -- caller side (never blocks on the device) -------------------------------------------
    def start(self) -> SerialPassportReader:
        if self._state is LinkState.CLOSED:
            raise ReaderClosed("reader driver was closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="passport-reader", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        with self._lock:
            port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            port.cancel_read()  # wake the reader thread; it closes the port itself
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        self._set_state(LinkState.CLOSED)

    @property
    def state(self) -> LinkState:
        return self._state

    def raise_if_unavailable(self) -> None:
        """Raise ReaderUnavailable while the reader is gone (ReaderClosed after close())."""
        if self._state is LinkState.CLOSED:
            raise ReaderClosed("reader driver was closed")
        if self._state is LinkState.DOWN and self._last_error is not None:
            raise self._last_error

    def get_event(self, timeout_s: float | None = 0.0) -> ReaderEvent | None:
        """Next event when no callback was given; None if none arrived within timeout_s."""
        try:
            return self._events.get(timeout=timeout_s) if timeout_s else self._events.get_nowait()
        except queue.Empty:
            return None

    def __enter__(self) -> SerialPassportReader:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reader thread ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """False once the reader thread has ended (after close, or after an internal fault)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._connect_loop()
        except Exception as exc:  # a bug here must not leave the lane believing the reader is up
            self._went_down(f"reader thread stopped: {type(exc).__name__}")
            log.error("passport reader thread stopped by %s", type(exc).__name__)

    def _connect_loop(self) -> None:
        backoff = Backoff(self.settings.reconnect_min_s, self.settings.reconnect_max_s)
        while not self._stop.is_set():
            port = self._open_port()
            if port is not None:
                backoff.reset()
                self._pump(port)
            if not self._stop.is_set():
                self._sleep(backoff.next_delay())

    def _open_port(self) -> Any:
        try:
            port = self._opener(self.settings, self._read_timeout_s)
        except _link_errors() as exc:
            self._went_down(f"cannot open reader: {exc}")
            return None
        with self._lock:
            self._port = port
        if self._stop.is_set():
            self._release(port)
            return None
        self._set_state(LinkState.UP)
        return port

    def _pump(self, port: Any) -> None:
        decoder = self._decoder_factory(self.settings)
        try:
            while not self._stop.is_set():
                data = port.read(port.in_waiting or 1)
                now = self._clock()
                self._deliver(decoder.feed(data, now) + decoder.poll(now))
        except _link_errors() as exc:
            self._deliver(decoder.abort())
            if not self._stop.is_set():
                self._went_down(f"reader link lost: {exc}")
        finally:
            self._release(port)

    def _release(self, port: Any) -> None:
        with self._lock:
            self._port = None
        try:
            port.close()
        except _link_errors():
            pass  # already gone; nothing left to release

    def _went_down(self, message: str) -> None:
        error = ReaderUnavailable(message)
        self._last_error = error
        if self._set_state(LinkState.DOWN, error):
            log.warning("passport reader unavailable: %s", message)

    def _set_state(self, state: LinkState, error: ReaderUnavailable | None = None) -> bool:
        with self._lock:
            if state is self._state or self._state is LinkState.CLOSED:
                return False
            self._state = state
        if state is LinkState.UP:
            log.info("passport reader connected")
        self._deliver([LinkChanged(state, error)])
        return True

    def _deliver(self, events: Sequence[ReaderEvent]) -> None:
        for event in events:
            if isinstance(event, DeviceMessage):
                _log_device_message(event)
            if self._on_event is None:
                self._events.put(event)
                continue
            try:
                self._on_event(event)
            except Exception as exc:  # a faulty consumer must not stop the reader thread
                log.error("reader event callback failed: %s", type(exc).__name__)


def _log_device_message(message: DeviceMessage) -> None:
    """Kind and size only above DEBUG: a stripe or a boarding pass is personal data."""
    log.info("reader sent a %s block (type %r, %d bytes%s); not a document", message.kind.value,
             message.message_type, len(message.raw), "" if message.intact else ", damaged")
    log.debug("reader %s block: %s", message.kind.value, message.raw.hex())
