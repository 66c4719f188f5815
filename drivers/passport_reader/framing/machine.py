"""The part every start-byte framing shares: a bounded frame buffer, silence timeout, resync."""
from __future__ import annotations

from drivers.passport_reader.events import FrameEvent, ReadError, ReadErrorReason
from drivers.passport_reader.framing.common import ByteDecoder, DecoderLimits


class StartByteMachine(ByteDecoder):
    """Byte-at-a-time state machine. Subclasses define START and `_frame_byte`.

    Outside a frame every byte except START is noise and dropped (counted). Inside a frame the
    buffer is bounded by `limits.max_frame_bytes`; a frame left unfinished for
    `limits.idle_timeout_s` is reported as truncated, so a read never hangs half-done.
    """

    START: int

    def __init__(self, limits: DecoderLimits | None = None) -> None:
        super().__init__(limits)
        self._frame: bytearray | None = None

    @property
    def in_frame(self) -> bool:
        return self._frame is not None

    @property
    def _open(self) -> bytearray:
        """The frame being received: the subclasses' frame handlers run only inside one."""
        assert self._frame is not None
        return self._frame

    def _silence(self) -> None:
        self._fail(ReadErrorReason.TRUNCATED)

    def _link_broken(self) -> None:
        self._fail(ReadErrorReason.TRUNCATED)

    def _step(self, byte: int) -> None:
        if self._frame is None:
            if byte == self.START:
                self._begin()
            else:
                self._outside(byte)
            return
        self._frame.append(byte)
        if len(self._frame) > self.limits.max_frame_bytes:
            self._fail(ReadErrorReason.OVERSIZED)
            return
        self._frame_byte(byte)

    def _begin(self) -> None:
        self._frame = bytearray([self.START])
        self._on_begin()

    def _fail(self, reason: ReadErrorReason) -> None:
        self._out.append(ReadError(reason, bytes(self._frame or b"")))
        self._frame = None

    def _drop(self) -> None:
        """Not a frame after all (noise that looked like a start byte)."""
        self.discarded_bytes += len(self._frame or b"")
        self._frame = None

    def _emit(self, event: FrameEvent) -> None:
        self._out.append(event)
        self._frame = None

    def _outside(self, byte: int) -> None:
        """A byte between frames: noise unless a framing knows it (RTE's ACK/NAK)."""
        self.discarded_bytes += 1

    def _on_begin(self) -> None:
        """Reset per-frame state."""

    def _frame_byte(self, byte: int) -> None:
        raise NotImplementedError
