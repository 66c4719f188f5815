"""Decode untrusted images (chip portraits, files given to `gatectl face verify`) so that no image
can hold the appliance: the header is checked first (bytes, pixels, progressive scans), then the
image is decoded in a worker process with a time limit, and abandoned (the worker killed) when the
limit passes or the caller gives up.

One long-lived worker serves every image (about 1 ms of overhead each); a new one (a fresh
interpreter with the decoders, ~0.2 s) is started at warm-up, and again at once after one was killed.
A worker is warm once it has imported its decoders and decoded a tiny image of each kind it serves;
a decode waits for that (bounded by `start_limit_s`: a worker that cannot start is a fault) outside
its own time limit, which counts the decode only: on a loaded device a cold start (or OpenCV's first
import) must not get a genuine traveller's portrait abandoned.
The worker is a separate process: a decoder stuck in C code holds only its own GIL, and it runs
at a lower CPU priority than the lane.
"""
from __future__ import annotations

import enum
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import decode_protocol as protocol
from .errors import ImageDecodeAbandoned, ImageRefused, ImageUnreadable
from .image_header import HeaderUnreadable, JpegWalker, inspect_image

log = logging.getLogger(__name__)
POLL_S = 0.02  # how often a waiting caller looks at its cancel signal
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
START_LIMIT_S = 30.0  # a niced interpreter plus OpenCV on a loaded Pi: seconds, never half a minute


class ImageKind(enum.Enum):
    PORTRAIT = "portrait"  # DG2 facial image: JPEG or JPEG 2000, decoded with Pillow
    IMAGE = "image"  # a photo file: decoded with OpenCV (face.images.decode_image)


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 30 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_scans: int = 40  # progressive JPEGs use about 10
    timeout_s: float = 5.0


PORTRAIT_LIMITS = ImageLimits(max_bytes=1 << 20, max_pixels=6_000_000, timeout_s=2.0)


def check_header(data: bytes, limits: ImageLimits) -> None:
    """Refuse, without decoding, anything whose header exceeds the limits."""
    if not 0 < len(data) <= limits.max_bytes:
        raise ImageRefused(f"image of {len(data)} bytes is outside 1..{limits.max_bytes}")
    try:
        header = inspect_image(bytes(data), limits.max_scans)
    except HeaderUnreadable as exc:
        raise ImageUnreadable(f"image header unreadable: {exc}") from None
    if header.pixels > limits.max_pixels:
        raise ImageRefused(f"image of {header.width}x{header.height} pixels is over {limits.max_pixels}")
    if header.scans > limits.max_scans:
        raise ImageRefused(f"progressive JPEG with more than {limits.max_scans} scans")


class PortraitStreamCheck:
    """Watches a DG2 file as the chip delivers it (emrtd.reader's `watch`): a JPEG portrait whose
    frame is over the pixel limit, or whose scans pass the scan limit, stops the read there, before
    the rest (a 160 KB bomb) is transferred. JPEG 2000 is left to the decoder's limits."""

    SEARCH_BYTES = 1024  # the biometric headers before the image are ~60-100 bytes

    def __init__(self, limits: ImageLimits = PORTRAIT_LIMITS):
        self.limits = limits
        self.prefix = bytearray()
        self.walker: JpegWalker | None = None
        self.watching = True

    def __call__(self, piece: bytes) -> None:
        if not self.watching:
            return
        if self.walker is None:
            piece = self._find_jpeg(piece)
            if self.walker is None:
                return
        try:
            self.walker.feed(piece)
        except HeaderUnreadable:
            self.watching = False  # malformed: the decoder will say so, after passive authentication
            return
        self._check()

    def _find_jpeg(self, piece: bytes) -> bytes:
        self.prefix += piece
        start = self.prefix.find(b"\xff\xd8\xff")
        if start >= 0:
            self.walker = JpegWalker(self.limits.max_scans)
            return bytes(self.prefix[start:])
        self.watching = len(self.prefix) < self.SEARCH_BYTES
        return b""

    def _check(self) -> None:
        walker = self.walker
        assert walker is not None       # checked only once the JPEG start was found
        size = walker.size
        if size is not None and size[0] * size[1] > self.limits.max_pixels:
            raise ImageRefused(f"portrait of {size[0]}x{size[1]} pixels is over {self.limits.max_pixels}")
        if walker.scans > self.limits.max_scans:
            raise ImageRefused(f"portrait: progressive JPEG with more than {self.limits.max_scans} scans")
        self.watching = not walker.done


class UntrustedImageDecoder:
    """`decode(data, kind)` -> HxWx3 BGR array, or ImageUnreadable / ImageRefused / ImageDecodeAbandoned.
    Thread-safe; one decode at a time (a waiting caller's wait counts against its own limit).
    `warm` names the kinds a worker readies before it is used (the appliance decodes portraits only)."""

    def __init__(self, limits: ImageLimits = ImageLimits(), monotonic: Callable[[], float] = time.monotonic,
                 warm: tuple[ImageKind, ...] = tuple(ImageKind), start_limit_s: float = START_LIMIT_S):
        self.limits, self.monotonic = limits, monotonic
        self.warm, self.start_limit_s = warm, start_limit_s
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._closed = False            # no restart thread may start a worker after close()
        self.restarts = 0  # workers stopped because an image took too long (for tests and health)

    def decode(self, data: bytes, kind: ImageKind, cancelled: Callable[[], bool] = lambda: False,
               limits: ImageLimits | None = None) -> np.ndarray:
        limits = limits or self.limits
        check_header(data, limits)
        deadline = self.monotonic() + limits.timeout_s
        if not self._lock.acquire(timeout=limits.timeout_s):
            raise ImageDecodeAbandoned("the image decoder stayed busy for the whole time limit")
        try:
            started = self.monotonic()
            worker = self._warm_worker(cancelled)
            deadline += self.monotonic() - started  # a cold start is not the image's time
            return self._decode_locked(worker, bytes(data), kind, deadline, cancelled)
        finally:
            self._lock.release()

    def _warm_worker(self, cancelled: Callable[[], bool]) -> _Worker:
        """The worker, once warm; a caller that gives up leaves a starting worker to go on starting."""
        worker = self._worker = self._fresh_worker()
        state = worker.wait_warm(cancelled)
        if state is _Warmth.WARM:
            return worker
        if state is _Warmth.WAITING:
            raise ImageDecodeAbandoned("image decoding abandoned (caller gave up while the decoder started)")
        self._abandon()
        raise ImageDecodeAbandoned(f"the image decoder did not start within {self.start_limit_s:g} s")

    def _fresh_worker(self) -> _Worker:
        worker = self._worker
        if worker is not None and worker.warmth() is not _Warmth.FAILED:
            return worker
        if worker is not None:
            worker.kill()
        return _Worker.start(self.warm, self.start_limit_s, self.monotonic)

    def _decode_locked(self, worker: _Worker, data: bytes, kind: ImageKind, deadline: float,
                       cancelled: Callable[[], bool]) -> np.ndarray:
        worker.send(kind, data)
        try:
            image = worker.receive(lambda: cancelled() or self.monotonic() > deadline)
        except ImageDecodeAbandoned:
            self._abandon()
            raise
        if image is None:
            self._abandon()
            raise ImageDecodeAbandoned("image decoding abandoned " +
                                       ("(caller gave up)" if cancelled() else "(time limit)"))
        return image

    def warm_up(self) -> None:
        """Start a worker warming now (it imports and tries its decoders on its own), not at the first
        traveller; returns at once."""
        with self._lock:
            if not self._closed:
                self._worker = self._fresh_worker()

    def wait_warm(self, timeout_s: float) -> bool:
        """True once the current worker is warm (for health checks and tests)."""
        worker, end = self._worker, self.monotonic() + timeout_s
        while worker is not None and worker.warmth() is _Warmth.WAITING and self.monotonic() < end:
            time.sleep(POLL_S)
        return worker is not None and worker.warmth() is _Warmth.WARM

    def _abandon(self) -> None:
        worker, self._worker = self._worker, None
        self.restarts += 1
        if worker is not None:
            worker.kill()
        log.warning("an image decode was abandoned; its worker was stopped")
        # the next traveller should not wait for a new interpreter
        threading.Thread(target=self.warm_up, name="image-decoder-restart", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            worker, self._worker, self._closed = self._worker, None, True
        if worker is not None:
            worker.kill()


class _Warmth(enum.Enum):
    WAITING = "waiting"
    WARM = "warm"
    FAILED = "failed"  # no ready signal within the start limit, or the worker ended


class _Worker:
    """The worker process and its two pipes. Answers are raw bytes, never pickles: the worker
    handles hostile data, and a compromised decoder must not be able to run code in the appliance."""

    def __init__(self, process: subprocess.Popen, start_limit_s: float, monotonic: Callable[[], float]):
        self.process = process
        self.warm_by = monotonic() + start_limit_s
        self.monotonic = monotonic
        self._warmth = _Warmth.WAITING
        self._settled = threading.Event()
        threading.Thread(target=self._await_ready, name="image-decoder-warm", daemon=True).start()

    @classmethod
    def start(cls, warm: tuple[ImageKind, ...], start_limit_s: float,
              monotonic: Callable[[], float]) -> _Worker:
        # only the project's own root: sys.path itself may hold shadowing entries (cv2 adds one
        # holding a `typing` package)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (PROJECT_ROOT, os.environ.get("PYTHONPATH"))))}
        command = [sys.executable, "-m", "firmware_app.face.decode_worker", *(kind.value for kind in warm)]
        return cls(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env, close_fds=True), start_limit_s, monotonic)

    def _await_ready(self) -> None:
        """Reads the worker's one ready byte (its only output before the first request)."""
        stdout = self.process.stdout
        assert stdout is not None           # started with stdout=PIPE
        try:
            while self.monotonic() < self.warm_by:
                if select.select([stdout.fileno()], [], [], POLL_S)[0]:
                    ready = os.read(stdout.fileno(), 1) == protocol.READY
                    self._warmth = _Warmth.WARM if ready else _Warmth.FAILED
                    return
            self._warmth = _Warmth.FAILED
        except (OSError, ValueError):       # killed and closed meanwhile
            self._warmth = _Warmth.FAILED
        finally:
            self._settled.set()

    def warmth(self) -> _Warmth:
        return self._warmth

    def wait_warm(self, cancelled: Callable[[], bool]) -> _Warmth:
        """WARM, FAILED, or WAITING if `cancelled()` turned true first."""
        while not self._settled.wait(POLL_S):
            if cancelled():
                return _Warmth.WAITING
        return self._warmth

    def send(self, kind: ImageKind, data: bytes) -> None:
        try:
            stdin = self.process.stdin
            assert stdin is not None        # started with stdin=PIPE
            stdin.write(protocol.request(kind.value, data))
            stdin.flush()
        except (OSError, ValueError) as exc:
            raise ImageDecodeAbandoned(f"image decoder unreachable ({type(exc).__name__})") from None

    def receive(self, give_up: Callable[[], bool]) -> np.ndarray | None:
        """The answer; None if `give_up()` turned true first (the caller then kills the worker)."""
        reader = protocol.AnswerReader()
        stdout = self.process.stdout
        assert stdout is not None           # started with stdout=PIPE
        fd = stdout.fileno()
        while not reader.complete:
            if give_up():
                return None
            if select.select([fd], [], [], POLL_S)[0]:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise ImageDecodeAbandoned("the image decoder stopped")
                reader.feed(chunk)
        return reader.result()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(2.0)
        # the ready reader sees EOF now; its pipe's number must not be reused while it still reads
        self._settled.wait(2.0)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


_shared: UntrustedImageDecoder | None = None
_shared_lock = threading.Lock()


def shared_decoder() -> UntrustedImageDecoder:
    """One decoder (one worker) per process, for callers that are not handed one."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = UntrustedImageDecoder()
        return _shared
