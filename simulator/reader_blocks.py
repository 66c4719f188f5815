"""What a simulated reader puts on the wire: the framing with its options (`WireFormat`) and the
non-document data real readers send on the same port (3M RTE blocks of the other devices and
ACK/NAK, barcode and stripe lines on a LINES port), as the vendors document them.

The sample payloads are invented test data (card number 4111..., the ICAO specimen name).
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.passport_reader.framing import RteOptions, encode, encode_block, rte_options
from drivers.passport_reader.framing.cute import FS, GS, STX
from drivers.passport_reader.framing.rte import ACK, NAK, SOH
from drivers.passport_reader.settings import Framing, ReaderSettings

RTE_FOREIGN = (                                  # (device, type, text)
    (b"C", b"U", b";4111111111111111=2512101?"),    # magnetic stripe, track 2
    (b"A", b"U", b"M1ERIKSSON/ANNA MARIA EABC123 LHRJFKBA 0178 226F001A0025 100"),  # barcode
    (b"1", b"D", b"\x10\x20pass-through"),          # pass-through port
    (b"S", b"U", b"3B8880014241524441"),            # smartcard slot
    (b"0", b"E", b"07"),                            # the reader's own error/status message
    (b"O", b"E", b"02"),                            # an optical message that is no read
)
LINES_FOREIGN = (
    b"%B4111111111111111^ERIKSSON/ANNA^2512101?",   # stripe track 1
    b";4111111111111111=2512101?",                  # stripe track 2
    b"M1ERIKSSON/ANNA MARIA EABC123 LHRJFKBA 0178 226F001A0025 100",  # PDF417 boarding pass
    b"0123456789",                                  # Code 128 baggage tag
)


@dataclass(frozen=True)
class WireFormat:
    framing: Framing = Framing.CUTE
    rte: RteOptions = RteOptions()
    cute_bytes: tuple[int | None, int | None] = (FS, GS)

    @classmethod
    def from_settings(cls, settings: ReaderSettings) -> WireFormat:
        return cls(settings.framing, rte_options(settings), settings.cute_bytes)

    @property
    def start_bytes(self) -> frozenset[int]:
        """Bytes that open a frame (noise must never contain them)."""
        if self.framing is Framing.RTE:
            return frozenset({SOH})
        if self.framing is Framing.CUTE:
            return frozenset({self.cute_bytes[0] if self.cute_bytes[0] is not None else STX})
        return frozenset()

    def document(self, lines: Sequence[str]) -> bytes:
        return encode(self.framing, lines, self.rte, self.cute_bytes)

    def foreign(self, rng: random.Random) -> bytes:
        """One documented non-document block for this framing (nothing for CUTE)."""
        if self.framing is Framing.RTE:
            choice = rng.randrange(len(RTE_FOREIGN) + 2)
            if choice >= len(RTE_FOREIGN):
                return bytes([ACK if choice == len(RTE_FOREIGN) else NAK])
            device, kind, text = RTE_FOREIGN[choice]
            return encode_block(device[0], kind[0], text, self.rte)
        if self.framing is Framing.LINES:
            return rng.choice(LINES_FOREIGN) + b"\r\n"
        return b""
