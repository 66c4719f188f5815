"""End to end through real pcscd + vpcd: PACE integrated mapping (ECDH, DH) and chip authentication
mapping chips, a CAM clone, and 2048-bit DH PACE on a chip without extended length (command chaining
for the 264-byte GENERAL AUTHENTICATE, 61xx/GET RESPONSE for the chip's long answer)."""
from __future__ import annotations

import time

import pytest

from drivers.smartcard import open_transceiver
from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.chip_auth.result import ChipCheck
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import CanKey, mrz_key_from_lines
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from simulator.passport_factory import AaKind, Forgery, PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from tests.chip_fixtures import CAN, counter_rng
from tests.passport_helpers import NOW, TD3, pki, portrait
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)

IM_EC = PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13)
IM_DH = PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 0)
CAM = PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13)
GM_DH_2048 = PaceInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 2)
IM_DH_2048 = PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 1)


def _read_through_pcscd(port: int, pace, key: str = "mrz", clone: bool = False, extended: bool = False):
    spec = PassportSpec(TD3, portrait(), aa=AaKind.NONE, pace=tuple(pace))
    document = build_passport(spec, pki(), NOW, Forgery(clone=clone))
    chip = VirtualIcaoChip(chip_config(document, extended_length=extended, can=CAN), counter_rng("chip"))
    card = insert_card(chip, port, extended)
    transceiver = open_transceiver("pcsc://Virtual PCD 00 00")
    try:
        access_key = CanKey(CAN) if key == "can" else mrz_key_from_lines(list(TD3))
        reader = DocumentReader(Session(transceiver), access_key, counter_rng("terminal"), time.monotonic,
                                extended_hint=transceiver.extended_length)
        return document, reader.read()
    finally:
        transceiver.close()
        remove_card(card)


@pytest.mark.parametrize("info, key", [(IM_EC, "can"), (IM_DH, "mrz")])
def test_integrated_mapping_chip_through_pcscd(pcscd_vpcd, info, key):
    document, result = _read_through_pcscd(pcscd_vpcd[1], [info], key)
    assert result.access.protocol is AccessProtocol.PACE and info.mapping.name in result.access.detail
    assert result.files[LdsFile.DG2] == document.files["DG2"]
    assert result.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION and result.chip_auth.passed


@pytest.mark.parametrize("clone", [False, True])
def test_cam_chip_and_its_clone_through_pcscd(pcscd_vpcd, clone):
    document, result = _read_through_pcscd(pcscd_vpcd[1], [CAM], clone=clone)
    assert result.access.protocol is AccessProtocol.PACE and "ECDH_CAM" in result.access.detail
    assert result.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING
    assert result.chip_auth.passed is not clone
    assert result.card_security == document.card_security
    assert result.files[LdsFile.SOD] == document.files["EF.SOD"]


@pytest.mark.parametrize("info, chained_steps", [(GM_DH_2048, 2), (IM_DH_2048, 1)])
def test_2048_bit_dh_pace_without_extended_length_through_pcscd(pcscd_vpcd, info, chained_steps):
    """GM sends two 256-byte public keys (mapping and key agreement), IM one (its t is 16 bytes)."""
    document, result = _read_through_pcscd(pcscd_vpcd[1], [info], extended=False)
    assert result.access.protocol is AccessProtocol.PACE and not result.extended_length
    parts = [entry for entry in result.log.entries if "(part 1/2)" in entry.step]
    assert len(parts) == chained_steps
    assert all(entry.header.startswith("10") and entry.data_len == 255 for entry in parts)
    assert result.files[LdsFile.DG1] == document.files["DG1"]
