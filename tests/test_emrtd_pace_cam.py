"""PACE-CAM and PACE-IM passports from the factory, read from the in-process virtual chip: CAM's
check against EF.CardSecurity takes chip authentication's place, a clone fails it, and EF.CardSecurity
itself is parsed within bounds (I.1's key, forged signatures, fuzzed bytes)."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.chip_auth.card_security import check_cam, confirm_chain, parse_card_security
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason
from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import LdsError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import mrz_key_from_lines
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.pa import passive_authenticate
from firmware_app.emrtd.pace.cam import CamData
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.tlv import encode_tlv
from simulator.cms_builder import signed_data
from simulator.passport_factory import AaKind, Forgery, PassportSpec, build_passport
from simulator.test_pki import signing_key
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.emrtd_vectors import h, load_pace_variants
from tests.passport_helpers import NOW, TD3, pki, portrait, store_for

CAM = PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13)
GM = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)
IM_EC = PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13)
IM_DH = PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 0)
IM_EC_3DES = PaceInfo("0.4.0.127.0.7.2.2.4.4.1", 2, 12)
IM_EC_AES256 = PaceInfo("0.4.0.127.0.7.2.2.4.4.4", 2, 16)


def _passport(pace, clone=False, chip_auth=True, wrong_signer=False):
    spec = PassportSpec(TD3, portrait(), aa=AaKind.NONE, chip_auth=chip_auth, pace=tuple(pace))
    document = build_passport(spec, pki(), NOW, Forgery(clone=clone))
    if wrong_signer:  # EF.CardSecurity signed by a key that is not its DS certificate's
        impostor = signing_key(pki().ds.key.kind, "tests", "impostor")
        content = parse_card_security(document.card_security).content
        document.card_security = signed_data("0.4.0.127.0.7.3.2.1", content, pki().ds, NOW, impostor)
    return document


def _read(document, extended=False):
    transport = InProcessTransceiver(VirtualIcaoChip(chip_config(document, extended_length=extended),
                                                     _rng("chip")))
    reader = DocumentReader(Session(transport), mrz_key_from_lines(list(document.mrz_lines)), _rng("terminal"),
                            time.monotonic, extended_hint=extended)
    return reader.read()


def _rng(label):
    from tests.chip_fixtures import counter_rng
    return counter_rng(label)


def test_genuine_cam_passport_is_authenticated_by_pace_alone():
    document = _passport([GM, CAM])  # the reader prefers CAM over GM
    result = _read(document)
    assert result.access.protocol is AccessProtocol.PACE and "ECDH_CAM" in result.access.detail
    assert result.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING and result.chip_auth.passed
    assert result.card_security == document.card_security
    assert not any("chip authentication" in entry.step for entry in result.log.entries)  # no CA v1
    assert passive_authenticate(result.files[LdsFile.SOD], result.data_groups, store_for(pki()), NOW).passed
    assert confirm_chain(result.chip_auth, result.card_security, True, store_for(pki()), NOW).passed


def test_cam_clone_fails_as_a_clone():
    result = _read(_passport([CAM], clone=True))
    assert result.access.protocol is AccessProtocol.PACE  # the password was right: PACE itself works
    assert result.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING
    assert result.chip_auth.performed and not result.chip_auth.passed
    assert result.chip_auth.reason is ChipCheckReason.SIGNATURE_INVALID
    assert LdsFile.DG1 in result.files


def test_card_security_with_a_forged_signature_fails_cam():
    result = _read(_passport([CAM], wrong_signer=True))
    assert not result.chip_auth.passed and result.chip_auth.reason is ChipCheckReason.KEY_NOT_AUTHENTIC


def test_card_security_signer_outside_the_trust_store_fails_when_the_sod_chains():
    document = _passport([CAM])
    other = pki(seed="elsewhere")
    content = parse_card_security(document.card_security).content
    document.card_security = signed_data("0.4.0.127.0.7.3.2.1", content, other.ds, NOW)
    result = _read(document)
    assert result.chip_auth.passed  # the signature itself is fine
    confirmed = confirm_chain(result.chip_auth, result.card_security, True, store_for(pki()), NOW)
    assert not confirmed.passed and confirmed.reason is ChipCheckReason.KEY_NOT_AUTHENTIC
    # when the SOD's own chain already failed, passive authentication governs and CAM is left as it is
    assert confirm_chain(result.chip_auth, result.card_security, False, store_for(pki()), NOW).passed


@pytest.mark.parametrize("info", [IM_EC, IM_DH, IM_EC_3DES, IM_EC_AES256])
def test_integrated_mapping_passports_read_with_ca_from_dg14(info):
    document = _passport([info])
    result = _read(document)
    assert result.access.protocol is AccessProtocol.PACE and "_IM" in result.access.detail
    assert result.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION and result.chip_auth.passed
    assert result.files[LdsFile.DG2] == document.files["DG2"]


def test_i1_chip_authentication_key_parses_and_verifies(shared_data):
    v = load_pace_variants(shared_data)["cam_ecdh"]
    content = encode_tlv(0x31, h(v["chip_auth_public_key_info_der"]))
    document = signed_data("0.4.0.127.0.7.3.2.1", content, pki().ds, NOW)
    security = parse_card_security(document)
    curve = STANDARD_PARAMETERS[13]
    assert [(k.key_id, k.curve.name) for k in security.keys] == [(13, "brainpoolP256r1")]
    assert ec.encode_point(curve, security.keys[0].point) == h(v["chip_static_public_pk_ic"])
    cam = CamData(curve, h(v["map_chip_public"]), h(v["chip_auth_data_ca_ic"]))
    assert check_cam(cam, document).passed
    wrong = replace(cam, ca_ic=(int(v["chip_auth_data_ca_ic"], 16) + 1).to_bytes(32, "big"))
    assert check_cam(wrong, document).reason is ChipCheckReason.SIGNATURE_INVALID
    missing = replace(cam, ca_ic=None, problem="the chip sent no chip authentication data (8A)")
    assert "8A" in check_cam(missing, document).detail
    assert check_cam(cam, None).reason is ChipCheckReason.CHIP_REFUSED


def test_card_security_bounds():
    with pytest.raises(LdsError, match="exceeds"):
        parse_card_security(b"\x30" + bytes(40000))
    wrong_type = signed_data(asn1.ID_LDS_SECURITY_OBJECT, b"\x31\x00", pki().ds, NOW)
    with pytest.raises(LdsError, match="id-SecurityObject"):
        parse_card_security(wrong_type)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_card_security_only_typed_errors(data):
    try:
        parse_card_security(data)
    except LdsError:
        pass


def _foreign_signer(document):
    content = parse_card_security(document.card_security).content
    document.card_security = signed_data("0.4.0.127.0.7.3.2.1", content, pki(seed="elsewhere").ds, NOW)
    return document


@pytest.mark.parametrize("foreign", [False, True])
def test_report_counts_cam_as_chip_authentication_and_checks_its_signer(foreign):
    from firmware_app.emrtd.report import Verdict, build_report

    document = _passport([CAM])
    document = _foreign_signer(document) if foreign else document
    report = build_report(_read(document), list(TD3), store_for(pki()), NOW, lambda lines: {"lines": len(lines)})
    assert report.data["chip_auth"]["check"] == "CAM"
    assert report.data["passive_auth"]["result"] == "passed"
    assert report.data["chip_auth"]["passed"] is not foreign
    assert report.verdict is (Verdict.CHECK_FAILED if foreign else Verdict.PASSED)


@pytest.mark.parametrize("clone, foreign", [(False, False), (True, False), (False, True)])
def test_lane_rejects_a_cam_clone_and_a_foreign_card_security(clone, foreign):
    import threading

    from firmware_app.lane.stages import ChipReadStage, PortraitVault
    from firmware_app.mrz import parse
    from firmware_app.policy import Evidence, InMemoryAlertLists, PolicyContext, ReasonCode, decide
    from tests.lane_helpers import good_face

    document = _passport([CAM], clone=clone)
    document = _foreign_signer(document) if foreign else document
    stage = ChipReadStage(lambda: InProcessTransceiver(VirtualIcaoChip(chip_config(document), _rng("chip"))),
                          store_for(pki()), _rng("terminal"), time.monotonic, lambda: NOW, PortraitVault())
    printed = parse(TD3, today=NOW.date())
    evidence = stage("t1", printed, threading.Event())
    assert evidence.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING
    decision = decide(Evidence(printed, evidence, good_face()), PolicyContext(today=NOW.date()),
                      InMemoryAlertLists())
    assert (ReasonCode.CLONE_SUSPECTED in decision.reasons) is (clone or foreign), decision.findings


def test_a_failed_card_security_block_is_retried_in_the_master_file():
    from simulator.vchip.applet import ChipFaults

    document = _passport([CAM])
    config = chip_config(document, faults=ChipFaults(fail_read_once_at=0))  # EF.CardSecurity is read first
    chip = VirtualIcaoChip(config, _rng("chip"))
    reader = DocumentReader(Session(InProcessTransceiver(chip)), mrz_key_from_lines(list(document.mrz_lines)),
                            _rng("terminal"), time.monotonic)
    result = reader.read()
    assert chip._failed_once and result.chip_auth.passed, result.chip_auth
    assert result.reauthentications == 0
