"""The passport reader section: serial line settings, the framing and each framing's vendor options.

Kept apart from model.py (the whole configuration) because the reader's many framing variants grow here.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from drivers.reader_options import ByteSize, StopBits
from drivers.reader_options import CuteDelimiters as CuteDelimiters
from drivers.reader_options import Framing as Framing
from drivers.reader_options import Parity as Parity
from drivers.reader_options import RteBccScope as RteBccScope
from drivers.reader_options import RteLengthScope as RteLengthScope
from drivers.reader_options import RteMode as RteMode

from .strict import Strict

# RTE interrupt and polled modes wait for an Enable command after every read; the driver does not
# send one, so a reader left in them would read one passport and then fall silent.
_RTE_MODE_REFUSED = ("rte_mode {mode!r} is not supported: the reader waits for an Enable command "
                     "after each read, which this driver does not send; set the reader to RTE native "
                     "(3M test card) and rte_mode = 'native'")
_CONTROL_BYTE = Annotated[int, Field(ge=0x00, le=0x1F)]


class ReaderSection(Strict):
    url: str = Field(description="pyserial URL or device path; 'sim://' for the simulated reader")
    framing: Framing = Framing.CUTE
    baudrate: int = Field(default=9600, gt=0)
    bytesize: ByteSize = 8
    parity: Parity = Parity.NONE
    stopbits: StopBits = 1
    check_bcc: bool = True
    line_timeout_s: float = Field(default=0.3, gt=0, le=10)
    reconnect_min_s: float = Field(default=0.2, gt=0)
    reconnect_max_s: float = Field(default=5.0, gt=0)
    rte_mode: RteMode = RteMode.NATIVE
    rte_use_bcc: bool = True
    rte_bcc_scope: RteBccScope = RteBccScope.AFTER_SOH
    rte_length_scope: RteLengthScope = RteLengthScope.AFTER_LENGTH
    cute_delimiters: CuteDelimiters = CuteDelimiters.FS_GS
    cute_open: _CONTROL_BYTE | None = None
    cute_close: _CONTROL_BYTE | None = None
    max_frame_bytes: int = Field(default=512, ge=64, le=65536)

    @model_validator(mode="after")
    def _backoff_bounds_ordered(self) -> ReaderSection:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self

    @model_validator(mode="after")
    def _rte_mode_supported(self) -> ReaderSection:
        if self.framing is Framing.RTE and self.rte_mode is not RteMode.NATIVE:
            raise ValueError(_RTE_MODE_REFUSED.format(mode=self.rte_mode.value))
        return self

    @model_validator(mode="after")
    def _cute_delimiters_consistent(self) -> ReaderSection:
        given = [b for b in (self.cute_open, self.cute_close) if b is not None]
        if given and self.cute_delimiters is not CuteDelimiters.CUSTOM:
            raise ValueError("cute_open/cute_close are only read with cute_delimiters = 'custom'")
        if {0x02, 0x03, 0x0A, 0x0D} & set(given):
            raise ValueError("cute_open/cute_close cannot be STX, ETX, CR or LF")
        if len(given) == 2 and given[0] == given[1]:
            raise ValueError("cute_open and cute_close must differ")
        return self
