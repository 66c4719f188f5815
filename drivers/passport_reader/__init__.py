"""Passport reader driver: MRZ text from serial readers (CUTE, 3M RTE, plain lines).

Open with a pyserial URL (device path, pty, `loop://`, `socket://`); `sim://` is not a serial URL
and is refused with UnknownReaderUrl (the app layer maps it to the simulator explicitly).

    settings = ReaderSettings.from_mapping(config.reader.model_dump())
    reader = open_reader(settings)              # returns at once; the port opens in background
    event = reader.get_event(timeout_s=0.1)     # DocumentRead | ReadError | DeviceMessage
                                                # | LinkChanged | None
    reader.raise_if_unavailable()               # ReaderUnavailable (a DriverUnavailable) while gone

Or pass `on_event` to receive events on the reader thread. DocumentRead.lines are the lines as
read (OCR errors included): validation and repair belong to firmware_app.mrz. DeviceMessage is
data that shares the port but is no document (a stripe, a barcode, the reader's own messages):
it must never count as a failed read.
"""
from __future__ import annotations

from drivers.errors import (
    FrameEncodeError,
    ReaderClosed,
    ReaderError,
    ReaderSettingsError,
    ReaderUnavailable,
    UnknownReaderUrl,
)
from drivers.passport_reader.events import (
    BlockKind,
    DeviceMessage,
    DocumentRead,
    LinkChanged,
    LinkState,
    ReaderEvent,
    ReadError,
    ReadErrorReason,
)
from drivers.passport_reader.framing import decoder_for, encode
from drivers.passport_reader.serial_reader import SerialPassportReader
from drivers.passport_reader.settings import (
    CuteDelimiters,
    Framing,
    Parity,
    ReaderSettings,
    RteBccScope,
    RteLengthScope,
    RteMode,
)
from drivers.passport_reader.urls import check_serial_url

__all__ = [
    "BlockKind",
    "CuteDelimiters",
    "DeviceMessage",
    "DocumentRead",
    "FrameEncodeError",
    "Framing",
    "LinkChanged",
    "LinkState",
    "Parity",
    "ReadError",
    "ReadErrorReason",
    "ReaderClosed",
    "ReaderError",
    "ReaderEvent",
    "ReaderSettings",
    "ReaderSettingsError",
    "ReaderUnavailable",
    "RteBccScope",
    "RteLengthScope",
    "RteMode",
    "SerialPassportReader",
    "UnknownReaderUrl",
    "check_serial_url",
    "decoder_for",
    "encode",
    "open_reader",
]


def open_reader(settings: ReaderSettings, on_event=None, **options) -> SerialPassportReader:
    """Create and start the driver; returns at once (the port opens in the background)."""
    return SerialPassportReader(settings, on_event, **options).start()
