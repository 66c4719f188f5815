"""One virtual passport chip in the vpcd reader, and another PC/SC handle resetting it: what the chip
session and card-reset tests share. Run those tests under `flock /tmp/pcscd.lock`."""
from __future__ import annotations

import pytest
from smartcard.scard import (
    SCARD_PROTOCOL_T0,
    SCARD_PROTOCOL_T1,
    SCARD_RESET_CARD,
    SCARD_SCOPE_USER,
    SCARD_SHARE_SHARED,
    SCardConnect,
    SCardDisconnect,
    SCardEstablishContext,
    SCardReleaseContext,
)

from tests.chip_fixtures import make_chip
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)

URL = "pcsc://Virtual PCD 00 00"
NAME = "Virtual PCD 00 00"
SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")


@pytest.fixture
def chip_in_reader(pcscd_vpcd):
    """A chip with a 3,000-byte portrait in the first vpcd reader for one test."""
    chip = make_chip(dg2_size=3000)
    inserted = insert_card(chip, pcscd_vpcd[1])
    yield chip
    remove_card(inserted)


def reset_by_another_handle() -> None:
    """What a second application (or pcscd powering a card up) does to a shared card."""
    _, context = SCardEstablishContext(SCARD_SCOPE_USER)
    try:
        _, handle, _ = SCardConnect(context, NAME, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
        SCardDisconnect(handle, SCARD_RESET_CARD)
    finally:
        SCardReleaseContext(context)
