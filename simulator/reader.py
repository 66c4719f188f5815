"""Simulated passport reader: writes documents into a pseudo-terminal in a real reader's framing,
with injected faults, so the real serial driver can be exercised without hardware.

All randomness comes from the `random.Random` given by the caller (seeded runs repeat exactly).
"""
from __future__ import annotations

import os
import random
import select
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.passport_reader.framing import RteOptions
from drivers.passport_reader.framing.cute import FS, GS
from drivers.passport_reader.settings import Framing
from simulator.reader_blocks import WireFormat

OCR_CONFUSIONS = {"O": "0", "0": "O", "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S"}
WRITE_TIMEOUT_S = 2.0


class SimulatorError(Exception):
    """The simulated reader cannot do what was asked (bad fault spec, pty gone, reader stuck)."""


@dataclass(frozen=True)
class FaultPlan:
    """Faults applied to each document. Rates are probabilities per document (0..1)."""

    chunk_min: int = 0          # 0: write each frame in one piece
    chunk_max: int = 0
    chunk_delay_s: float = 0.0  # pause between chunks
    noise_max: int = 0          # up to this many noise bytes before each frame
    truncate_rate: float = 0.0  # frame cut short, the rest never sent
    ocr_rate: float = 0.0       # one OCR-style character substitution in the text
    bcc_rate: float = 0.0       # RTE: block check character corrupted
    foreign_rate: float = 0.0   # RTE/LINES: a stripe, barcode or reader block before the document

    def __post_init__(self) -> None:
        rates = (self.truncate_rate, self.ocr_rate, self.bcc_rate, self.foreign_rate)
        if not all(0.0 <= r <= 1.0 for r in rates):
            raise SimulatorError("fault rates must be between 0 and 1")
        if self.chunk_min < 0 or self.chunk_max < self.chunk_min or self.noise_max < 0:
            raise SimulatorError("chunk sizes must satisfy 0 <= min <= max; noise >= 0")
        if self.chunk_delay_s < 0:
            raise SimulatorError("chunk delay must be >= 0")

    @classmethod
    def parse(cls, specs: Sequence[str]) -> FaultPlan:
        """From `KEY=VALUE` specs: chunk=MIN-MAX, delay=S, noise=N, truncate=P, ocr=P, bcc=P,
        foreign=P."""
        values: dict[str, float | int] = {}
        for spec in specs:
            key, _, value = spec.partition("=")
            try:
                values.update(_parse_fault(key.strip(), value.strip()))
            except ValueError as exc:
                raise SimulatorError(f"bad fault {spec!r}: {exc}") from None
        return cls(**values)


def _parse_fault(key: str, value: str) -> dict[str, float | int]:
    if key == "chunk":
        low, _, high = value.partition("-")
        return {"chunk_min": int(low), "chunk_max": int(high or low)}
    names = {"delay": "chunk_delay_s", "noise": "noise_max", "truncate": "truncate_rate",
             "ocr": "ocr_rate", "bcc": "bcc_rate", "foreign": "foreign_rate"}
    if key not in names:
        raise ValueError(f"unknown fault (known: chunk, {', '.join(names)})")
    return {names[key]: int(value) if key == "noise" else float(value)}


def with_ocr_error(lines: Sequence[str], rng: random.Random) -> list[str]:
    """Swap one character for the one OCR confuses it with (O/0, I/1, B/8, S/5), if any."""
    spots = [(i, j) for i, line in enumerate(lines) for j, ch in enumerate(line)
             if ch in OCR_CONFUSIONS]
    if not spots:
        return list(lines)
    i, j = rng.choice(spots)
    line = lines[i]
    return [*lines[:i], line[:j] + OCR_CONFUSIONS[line[j]] + line[j + 1:], *lines[i + 1:]]


def _wire(framing: Framing | WireFormat, options: RteOptions,
          cute_bytes: tuple[int | None, int | None]) -> WireFormat:
    return framing if isinstance(framing, WireFormat) else WireFormat(Framing(framing), options, cute_bytes)


def noise_bytes(framing: Framing | WireFormat, count: int, rng: random.Random) -> bytes:
    """Line noise that can never be mistaken for a frame start (or, for LINES, for text)."""
    wire = _wire(framing, RteOptions(), (FS, GS))
    if wire.framing is Framing.LINES:
        pool = [b for b in range(256) if (b < 0x20 and b not in (0x0A, 0x0D)) or b > 0x7E]
    else:
        pool = [b for b in range(256) if b not in wire.start_bytes]
    return bytes(rng.choice(pool) for _ in range(count))


def faulty_frame(framing: Framing | WireFormat, lines: Sequence[str], faults: FaultPlan,
                 rng: random.Random, options: RteOptions = RteOptions(),
                 cute_bytes: tuple[int | None, int | None] = (FS, GS)) -> bytes:
    """The bytes one document puts on the wire, faults included."""
    wire = _wire(framing, options, cute_bytes)
    if rng.random() < faults.ocr_rate:
        lines = with_ocr_error(lines, rng)
    frame = bytearray(wire.document(lines))
    if wire.framing is Framing.RTE and wire.rte.use_bcc and rng.random() < faults.bcc_rate:
        frame[-1] ^= 1 << rng.randrange(7)  # a 7-bit BCC stays 7-bit
    if rng.random() < faults.truncate_rate:
        del frame[rng.randrange(1, len(frame)):]
    foreign = wire.foreign(rng) if rng.random() < faults.foreign_rate else b""
    return foreign + noise_bytes(wire, rng.randint(0, faults.noise_max), rng) + bytes(frame)


def chunked(data: bytes, faults: FaultPlan, rng: random.Random) -> list[bytes]:
    if faults.chunk_max <= 0:
        return [data]
    chunks, pos = [], 0
    while pos < len(data):
        size = rng.randint(max(1, faults.chunk_min), faults.chunk_max)
        chunks.append(data[pos:pos + size])
        pos += size
    return chunks


class SimulatedReader:
    """A reader on a pseudo-terminal. Open the driver on `path` (the symlink when one is given,
    which stays valid across unplug/replug; the /dev/pts name changes on every replug)."""

    def __init__(self, framing: Framing | str | WireFormat, rng: random.Random, *,
                 faults: FaultPlan = FaultPlan(), link_path: Path | str | None = None,
                 sleep: Callable[[float], object] = time.sleep,
                 rte_options: RteOptions = RteOptions()) -> None:
        self.wire = framing if isinstance(framing, WireFormat) else WireFormat(Framing(framing), rte_options)
        self.framing, self.rte_options = self.wire.framing, self.wire.rte
        self.faults = faults
        self._rng, self._sleep = rng, sleep
        self._link = Path(link_path) if link_path else None
        self._master: int | None = None
        self._slave_name = ""

    @property
    def path(self) -> str:
        return str(self._link) if self._link else self._slave_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def open(self) -> str:
        if self._master is None:
            self._master, self._slave_name = _new_pty()
            if self._link:
                _point_link(self._link, self._slave_name)
        return self.path

    def close(self) -> None:
        self.unplug()

    def unplug(self) -> None:
        """Like pulling the USB cable: the device node disappears and open ports fail, and so does
        the stable link (udev removes a /dev/serial/by-id link with its device). A link left behind
        names a freed /dev/pts number that the next terminal opened anywhere on the machine gets:
        the driver reopened that stranger, reported the reader back and never saw a document again."""
        if self._master is not None:
            os.close(self._master)
            self._master = None
        if self._link and self._link.is_symlink():
            self._link.unlink()

    def replug(self) -> str:
        self.unplug()
        return self.open()

    def reader_attached(self) -> bool:
        """True while some process has the pty's slave side open (the master sees no hang-up)."""
        poller = select.poll()
        poller.register(self._require_master(), select.POLLHUP)
        return not any(ev & select.POLLHUP for _, ev in poller.poll(0))

    def wait_for_reader(self, timeout_s: float, step_s: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self.reader_attached():
            if time.monotonic() >= deadline:
                return False
            self._sleep(step_s)
        return True

    def send(self, lines: Sequence[str], after_s: float = 0.0) -> bytes:
        """Write one document with this reader's faults, `after_s` seconds from now (the time the
        reader takes to detect and scan the page); returns the bytes put on the wire."""
        data = faulty_frame(self.wire, lines, self.faults, self._rng)
        if after_s > 0:
            self._sleep(after_s)
        for index, chunk in enumerate(chunked(data, self.faults, self._rng)):
            if index and self.faults.chunk_delay_s:
                self._sleep(self.faults.chunk_delay_s)
            self.write_raw(chunk)
        return data

    def write_raw(self, data: bytes) -> None:
        master = self._require_master()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(master, view):]
            except BlockingIOError:
                _, writable, _ = select.select([], [master], [], WRITE_TIMEOUT_S)
                if not writable:
                    raise SimulatorError("the serial port is not being read (buffer full)") from None

    def _require_master(self) -> int:
        if self._master is None:
            raise SimulatorError("simulated reader is unplugged or not opened")
        return self._master

    def __enter__(self) -> SimulatedReader:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _new_pty() -> tuple[int, str]:
    master, slave = os.openpty()
    try:
        tty.setraw(slave)  # no echo, no CR->LF: bytes pass exactly as a USB serial port's would
        name = os.ttyname(slave)
    finally:
        os.close(slave)  # the driver opens it by name; keeping it would hide hang-ups
    os.set_blocking(master, False)
    return master, name


def _point_link(link: Path, target: str) -> None:
    """Atomically (re)point the symlink, the way udev re-creates /dev/serial/by-id links."""
    temp = link.with_name(link.name + ".new")
    if temp.is_symlink():
        temp.unlink()
    os.symlink(target, temp)
    os.replace(temp, link)
