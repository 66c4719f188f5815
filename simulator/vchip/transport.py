"""In-process transceiver in front of a VirtualIcaoChip (fast unit tests, no pcscd)."""
from __future__ import annotations

from drivers.errors import CardRemoved, TransmitFailed
from drivers.smartcard import Transceiver
from simulator.vchip.applet import VirtualIcaoChip

MAX_GET_RESPONSE = 64


class InProcessTransceiver(Transceiver):
    def __init__(self, chip: VirtualIcaoChip, remove_after_apdus: int | None = None):
        self.chip = chip
        self.remove_after_apdus = remove_after_apdus
        self.count = 0
        self.extended_length = chip.config.extended_length  # what an ATR would tell the reader

    def transmit(self, apdu: bytes) -> bytes:
        if self.remove_after_apdus is not None and self.count >= self.remove_after_apdus:
            raise CardRemoved("virtual card removed")
        self.count += 1
        answer = self.chip.process(apdu)
        for _ in range(MAX_GET_RESPONSE):  # 61xx: fetch the rest, as the PC/SC transport does
            if len(answer) < 2 or answer[-2] != 0x61:
                return answer
            more = self.chip.process(bytes([apdu[0] & 0x03, 0xC0, 0, 0, answer[-1]]))
            answer = answer[:-2] + more
        raise TransmitFailed("virtual card keeps answering 61xx")
