"""Factory-built passports (signed SOD, AA/CA keys) read from the in-process virtual chip:
the reader runs chip and active authentication, and a clone fails both."""
from __future__ import annotations

import time

import pytest

from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.auth import ChipCheckReason
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.pa import passive_authenticate
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from simulator.passport_factory import AaKind, Forgery
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import PACE_BRAINPOOL_AES128, counter_rng
from tests.passport_helpers import NOW, passport, pki, store_for


def _read(document, pace=None, extended=False):
    config = chip_config(document, pace=pace, extended_length=extended)
    transport = InProcessTransceiver(VirtualIcaoChip(config, counter_rng("chip")))
    from firmware_app.emrtd.keys import mrz_key_from_lines
    reader = DocumentReader(Session(transport), mrz_key_from_lines(list(document.mrz_lines)),
                            counter_rng("terminal"), time.monotonic, extended_hint=extended)
    return reader.read()


@pytest.mark.parametrize("aa, pace, extended", [
    (AaKind.RSA, None, False), (AaKind.EC, [PACE_BRAINPOOL_AES128], True), (AaKind.RSA, [PACE_BRAINPOOL_AES128], False)])
def test_genuine_passport_passes_chip_and_active_authentication(aa, pace, extended):
    document = passport(aa=aa)
    result = _read(document, pace, extended)
    assert result.access.protocol is (AccessProtocol.PACE if pace else AccessProtocol.BAC)
    assert result.chip_auth.passed, result.chip_auth
    assert result.active_auth.passed, result.active_auth
    for name, data in document.files.items():
        assert result.files[LdsFile(name)] == data, name
    groups = {int(f.value[2:]): data for f, data in result.files.items() if f.value.startswith("DG")}
    pa = passive_authenticate(result.files[LdsFile.SOD], groups, store_for(pki()), NOW)
    assert pa.passed, pa


def test_clone_fails_chip_and_active_authentication_but_is_still_read():
    document = passport(aa=AaKind.RSA, forgery=Forgery(clone=True))
    result = _read(document)
    assert result.chip_auth.performed and not result.chip_auth.passed
    assert result.chip_auth.reason is ChipCheckReason.SM_FAILED_WITH_NEW_KEYS
    assert result.active_auth.reason is ChipCheckReason.SIGNATURE_INVALID
    assert result.files[LdsFile.DG15] == document.files["DG15"]
