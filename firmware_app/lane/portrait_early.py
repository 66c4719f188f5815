"""The chip portrait decoded while the chip read goes on (chip authentication and active
authentication still take a fifth of the read after DG2).

Once EF.SOD and DG2 are in, the SOD must vouch for DG2 first: its signature and Document Signer
chain (the lane's trust) and DG2's hash, the same check that admits DG14/DG15 to the CA/AA maths.
Only then is the portrait decoded, in the decode worker with its pixel, scan and time limits. The
chip stage keeps the decoded portrait only if full passive authentication passes at the end of the
read, and only for the very DG2 bytes decoded; meanwhile the face stage's early capture turns it
into the comparison's reference (face_early.py). Held in the vault, discarded with the transaction.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from firmware_app.emrtd.errors import LdsError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.lds import parse_dg2
from firmware_app.emrtd.vouch import SodVouch
from firmware_app.face.errors import ImageUnreadable
from firmware_app.face.untrusted import PORTRAIT_LIMITS, ImageKind, UntrustedImageDecoder


class PortraitCandidate:
    """DG2 as read, and its portrait once vouched for and decoded (None: not vouched or unreadable)."""

    def __init__(self, dg2: bytes):
        self.dg2 = dg2
        self.attempted = False      # vouched for, so decoded (image None: the decoder refused it)
        self.image: np.ndarray | None = None
        self.done = threading.Event()

    def result_for(self, dg2: bytes) -> tuple[bool, np.ndarray | None]:
        """(True, portrait or None when unreadable) if these very bytes were vouched for and decoded,
        so a refused image is not decoded twice; (False, None) otherwise. Waits the decode's own limit."""
        if not self.done.wait(PORTRAIT_LIMITS.timeout_s) or self.dg2 != dg2 or not self.attempted:
            return False, None
        return True, self.image


def start_decode(files: dict[LdsFile, bytes], vouch: SodVouch, decoder: UntrustedImageDecoder,
                 stop: Callable[[], bool], decoded: Callable[[PortraitCandidate], None]) -> PortraitCandidate | None:
    """Begin vouching for and decoding DG2 on a thread (the chip read goes on); `decoded` is told after."""
    dg2 = files.get(LdsFile.DG2)
    if dg2 is None:
        return None
    candidate = PortraitCandidate(dg2)

    def run() -> None:
        try:
            if vouch.refusal(files.get(LdsFile.SOD), 2, dg2) is None:
                candidate.attempted = True
                face = parse_dg2(dg2).portrait
                candidate.image = decoder.decode(face.image, ImageKind.PORTRAIT, stop, PORTRAIT_LIMITS)
        except (LdsError, ImageUnreadable):
            candidate.image = None      # the chip stage decodes (and reports) as before
        finally:
            candidate.done.set()
            decoded(candidate)
    threading.Thread(target=run, name="lane-portrait-early", daemon=True).start()
    return candidate
