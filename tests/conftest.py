"""Shared test fixtures. ../shared/data is read in place; tests that need it skip when absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_browser_helpers import kiosk_browser  # noqa: F401 - one headless Chromium per session

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def verifier():
    """The face verifier on the fetched models (YuNet, SFace; PAD when setup converted it), built
    once: loading and warming the ONNX sessions costs seconds."""
    from firmware_app.face.verifier import build_verifier
    return build_verifier(ROOT / "models", threads=2)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (checkout without ../shared/data)")
    return SHARED_DATA
