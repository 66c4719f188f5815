"""In-process transceiver in front of a VirtualIcaoChip (fast unit tests, no pcscd)."""
from __future__ import annotations

from drivers.smartcard.errors import CardRemoved
from simulator.vchip.applet import VirtualIcaoChip


class InProcessTransceiver:
    def __init__(self, chip: VirtualIcaoChip, remove_after_apdus: int | None = None):
        self.chip = chip
        self.remove_after_apdus = remove_after_apdus
        self.count = 0
        self.extended_length = chip.config.extended_length  # what an ATR would tell the reader

    def transmit(self, apdu: bytes) -> bytes:
        if self.remove_after_apdus is not None and self.count >= self.remove_after_apdus:
            raise CardRemoved("virtual card removed")
        self.count += 1
        return self.chip.process(apdu)
