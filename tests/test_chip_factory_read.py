"""Factory-built passports (signed SOD, AA/CA keys) read from the in-process virtual chip:
the reader runs chip and active authentication, and a clone fails both."""
from __future__ import annotations

import time

import pytest

from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.chip_auth.result import ChipCheckReason
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.lds.dg14 import Agreement, CaCipher
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
    (AaKind.RSA, None, False), (AaKind.EC, [PACE_BRAINPOOL_AES128], True),
    (AaKind.RSA, [PACE_BRAINPOOL_AES128], False)])
def test_genuine_passport_passes_chip_and_active_authentication(aa, pace, extended):
    document = passport(aa=aa)
    result = _read(document, pace, extended)
    assert result.access.protocol is (AccessProtocol.PACE if pace else AccessProtocol.BAC)
    assert result.chip_auth.passed, result.chip_auth
    assert result.active_auth.passed, result.active_auth
    for name, data in document.files.items():
        assert result.files[LdsFile(name)] == data, name
    pa = passive_authenticate(result.files[LdsFile.SOD], result.data_groups, store_for(pki()), NOW)
    assert pa.passed, pa


def test_clone_fails_chip_and_active_authentication_but_is_still_read():
    document = passport(aa=AaKind.RSA, forgery=Forgery(clone=True))
    result = _read(document)
    assert result.chip_auth.performed and not result.chip_auth.passed
    assert result.chip_auth.reason is ChipCheckReason.SM_FAILED_WITH_NEW_KEYS
    assert result.active_auth.reason is ChipCheckReason.SIGNATURE_INVALID
    assert result.files[LdsFile.DG15] == document.files["DG15"]


def _ca_passport(agreement, cipher, clone=False):
    from simulator.passport_factory import PassportSpec, build_passport
    from tests.passport_helpers import TD3, portrait

    spec = PassportSpec(TD3, portrait(), aa=AaKind.RSA, ca_agreement=agreement, ca_cipher=cipher)
    return build_passport(spec, pki(), NOW, Forgery(clone=clone))


@pytest.mark.parametrize("agreement, cipher", [
    (Agreement.DH, CaCipher.DES3), (Agreement.DH, CaCipher.AES128), (Agreement.ECDH, CaCipher.DES3),
    (Agreement.ECDH, CaCipher.AES256)])
def test_chip_authentication_variants_pass_and_clones_fail(agreement, cipher):
    from firmware_app.emrtd.lds import parse_dg14

    document = _ca_passport(agreement, cipher)
    dg14 = parse_dg14(document.files["DG14"])
    assert [k.agreement for k in dg14.chip_auth_keys] == [agreement]
    assert [i.cipher for i in dg14.chip_auth] == [cipher]
    result = _read(document, [PACE_BRAINPOOL_AES128])
    assert result.chip_auth.passed, result.chip_auth
    assert result.files[LdsFile.DG15] == document.files["DG15"]  # read after CA, under its keys
    assert result.active_auth.passed and result.reauthentications == 0
    clone = _read(_ca_passport(agreement, cipher, clone=True))
    assert clone.chip_auth.performed and clone.chip_auth.reason is ChipCheckReason.SM_FAILED_WITH_NEW_KEYS
