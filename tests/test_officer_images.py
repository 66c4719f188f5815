"""What the officer console shows as images: the vault keeps the best live frame only when asked
to and only while the transaction runs; frames are JPEG-encoded, scaled down."""
from __future__ import annotations

import cv2
import numpy as np

from firmware_app.face.images import encode_jpeg
from firmware_app.lane.stages import PortraitVault

PORTRAIT = np.full((200, 160, 3), 120, np.uint8)


def frame(value: int) -> np.ndarray:
    return np.full((480, 640, 3), value, np.uint8)


def test_the_vault_keeps_the_best_scoring_live_frame_until_the_transaction_ends():
    vault = PortraitVault(keep_live=True)
    vault.offer_live("T", frame(1), 0.5)            # no portrait yet (or any more): nothing kept
    assert vault.peek("T", live=True) is None
    vault.put("T", PORTRAIT)
    low, high = frame(2), frame(3)
    vault.offer_live("T", low, 0.2)
    vault.offer_live("T", high, 0.7)
    vault.offer_live("T", frame(4), 0.4)
    assert vault.peek("T", live=True) is high and vault.peek("T", live=False) is PORTRAIT
    vault.discard("T")
    assert vault.peek("T", live=True) is None and vault.peek("T", live=False) is None


def test_without_an_officer_console_no_live_frame_is_kept():
    vault = PortraitVault()
    vault.put("T", PORTRAIT)
    vault.offer_live("T", frame(2), 0.9)
    assert vault.peek("T", live=True) is None


def test_frames_are_encoded_as_jpeg_no_larger_than_asked():
    data = encode_jpeg(frame(200), max_side=320)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert data[:2] == b"\xff\xd8" and decoded.shape == (240, 320, 3)
    assert abs(int(decoded.mean()) - 200) <= 2
