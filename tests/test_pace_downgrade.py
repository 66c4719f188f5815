"""PACE downgrade: EF.CardAccess (unsigned, read in plain before PACE) is compared with the PACEInfos
the Document Signer signed (DG14 under passive authentication, EF.CardSecurity under PACE-CAM). A
man in the middle who rewrites EF.CardAccess to push the lane to a weaker mapping, or hides it to
push the lane to BAC, gets the traveller referred (pace_downgrade_suspected). A chip that offers
PACE but fails it is not read with BAC when `smartcard.require_pace` is set."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.smartcard import open_transceiver
from firmware_app.appliance.core import Appliance
from firmware_app.config import parse_config
from firmware_app.emrtd.chip_auth.pace_match import (
    SignedPaceInfos,
    check_pace_parameters,
    from_card_security,
    from_dg14,
)
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.pa import TrustStore
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.reader import ReadOptions
from firmware_app.lane.authority_trust import AuthorityTrust
from firmware_app.lane.stages import ChipReadStage, PortraitVault
from firmware_app.mrz import parse
from firmware_app.policy import Evidence, InMemoryAlertLists, Outcome, PolicyContext, ReasonCode, decide
from simulator.passport_factory import AaKind, PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.documents import encode_card_access
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.lane_helpers import good_face
from tests.passport_helpers import NOW, TD3, pki, portrait, store_for
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)

CAM = PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13)      # ECDH-CAM AES-128 brainpoolP256r1
GM = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)       # ECDH-GM AES-128 brainpoolP256r1
GM_WEAK = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 8)   # the same mapping on NIST P-192


@pytest.fixture(scope="module")
def document():
    """A chip that offers (and signs) PACE-CAM and PACE-GM."""
    return build_passport(PassportSpec(TD3, portrait(), aa=AaKind.NONE, pace=(CAM, GM)), pki(), NOW)


def _chip(document, card_access: list[PaceInfo] | None):
    """The genuine chip behind a man in the middle who serves `card_access` as EF.CardAccess."""
    config = chip_config(document)
    served = encode_card_access(card_access) if card_access is not None else None
    return VirtualIcaoChip(replace(config, card_access=served), counter_rng("chip"))


def _stage(open_transceiver, options: ReadOptions = ReadOptions()):
    return ChipReadStage(open_transceiver, store_for(pki()), counter_rng("terminal"), time.monotonic,
                         lambda: NOW, PortraitVault(), options)


def _decide(evidence):
    printed = parse(TD3, today=NOW.date())
    return decide(Evidence(printed, evidence, good_face()), PolicyContext(today=NOW.date()), InMemoryAlertLists())


def _in_process(document, card_access):
    stage = _stage(lambda: InProcessTransceiver(_chip(document, card_access)))
    return stage("t1", parse(TD3, today=NOW.date()), threading.Event())


# --- the comparison itself (pure) ---

def test_equal_offers_pass_whatever_the_chip_order():
    signed = [SignedPaceInfos("DG14", frozenset({GM, CAM}))]
    assert check_pace_parameters([CAM, GM], signed).passed


@pytest.mark.parametrize("card_access", [[GM], [CAM, GM_WEAK], None, []])
def test_an_offer_that_differs_from_the_signed_one_fails(card_access):
    result = check_pace_parameters(card_access, [SignedPaceInfos("EF.CardSecurity", frozenset({CAM, GM}))])
    assert result.performed and not result.passed
    assert result.check is ChipCheck.PACE_PARAMETERS and result.reason is ChipCheckReason.PARAMETERS_MISMATCH
    assert "EF.CardSecurity" in result.detail


def test_nothing_signed_to_compare_is_not_performed_and_an_unreadable_copy_fails():
    unsigned = check_pace_parameters([GM], [SignedPaceInfos("DG14", frozenset())])
    assert not unsigned.performed and unsigned.reason is ChipCheckReason.NOT_OFFERED
    assert not check_pace_parameters([GM], [SignedPaceInfos("DG14", None)]).passed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_hostile_signed_files_never_raise(data):
    for copy in (from_dg14(data), from_card_security(data), from_dg14(b"\x6e" + bytes([len(data[:127])]) + data[:127])):
        assert copy.infos is None or isinstance(copy.infos, frozenset)


def test_the_factory_signs_the_offer_in_dg14_and_card_security(document):
    assert from_dg14(document.files["DG14"]).infos == {CAM, GM}
    assert from_card_security(document.card_security).infos == {CAM, GM}


# --- the lane's chip stage against a virtual chip behind a rewriting man in the middle ---

def test_genuine_card_access_passes_the_check(document):
    evidence = _in_process(document, [CAM, GM])
    assert evidence.access_protocol == "PACE" and evidence.chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING
    assert evidence.pace_parameters.passed
    assert ReasonCode.PACE_DOWNGRADE_SUSPECTED not in _decide(evidence).reasons


def test_card_access_hidden_to_force_bac_refers_the_traveller(document):
    evidence = _in_process(document, None)
    assert evidence.access_protocol == "BAC" and evidence.passive.passed
    assert evidence.pace_parameters.reason is ChipCheckReason.PARAMETERS_MISMATCH
    decision = _decide(evidence)
    finding = next(f for f in decision.findings if f.code is ReasonCode.PACE_DOWNGRADE_SUSPECTED)
    assert finding.outcome is Outcome.REFER and decision.outcome is not Outcome.PASS
    assert evidence.to_dict()["pace_parameters"]["passed"] is False


def test_weaker_mapping_through_real_pcscd_refers_the_traveller(document, pcscd_vpcd):
    """CAM removed from EF.CardAccess: the lane runs PACE-GM (no chip proof in PACE), the chip reads
    fine and every other check passes; only the signed DG14 shows the rewrite."""
    card = insert_card(_chip(document, [GM]), pcscd_vpcd[1], False)
    try:
        evidence = _stage(lambda: open_transceiver("pcsc://Virtual PCD 00 00"))(
            "t2", parse(TD3, today=NOW.date()), threading.Event())
    finally:
        remove_card(card)
    assert evidence.access_protocol == "PACE" and evidence.passive.passed
    assert evidence.pace_parameters.reason is ChipCheckReason.PARAMETERS_MISMATCH
    assert "ECDH_CAM" in evidence.pace_parameters.detail
    decision = _decide(evidence)
    assert ReasonCode.PACE_DOWNGRADE_SUSPECTED in decision.reasons and decision.outcome is not Outcome.PASS


def test_on_a_onestop_lane_each_authority_judges_the_downgrade_with_its_own_store(document):
    """The lane's own store is unused (both authorities have theirs): the exit authority's store
    vouches for DG14, so its decision sees the rewrite; the entry authority's store does not, so
    no signed copy is authentic for it (it refers on its own passive authentication anyway)."""
    stage = ChipReadStage(lambda: InProcessTransceiver(_chip(document, [GM])), TrustStore(), counter_rng("terminal"),
                          time.monotonic, lambda: NOW, PortraitVault())
    stage.authority_trust = AuthorityTrust({"exit": store_for(pki()), "entry": TrustStore()})
    evidence = stage("t5", parse(TD3, today=NOW.date()), threading.Event())
    assert not evidence.pace_parameters.performed       # the lane's (unused) store vouches for nothing
    exit_view, entry_view = evidence.for_authority("exit"), evidence.for_authority("entry")
    assert exit_view.passive.passed and exit_view.pace_parameters.reason is ChipCheckReason.PARAMETERS_MISMATCH
    assert ReasonCode.PACE_DOWNGRADE_SUSPECTED in _decide(exit_view).reasons
    assert not entry_view.passive.passed and not entry_view.pace_parameters.performed
    assert ReasonCode.PACE_DOWNGRADE_SUSPECTED not in _decide(entry_view).reasons


# --- PACE offered but failed: BAC only when the post allows it ---

def _broken_pace_chip(document):
    """EF.CardAccess offers PACE but the applet refuses it (MSE:Set AT): a chip with a broken PACE,
    or a man in the middle who breaks PACE to get a BAC session."""
    return VirtualIcaoChip(replace(chip_config(document), pace=[], card_access=encode_card_access([GM])),
                           counter_rng("chip"))


def test_pace_failure_is_read_with_bac_only_when_allowed():
    document = build_passport(PassportSpec(TD3, portrait(), aa=AaKind.NONE), pki(), NOW)
    allowed = _stage(lambda: InProcessTransceiver(_broken_pace_chip(document)))(
        "t3", parse(TD3, today=NOW.date()), threading.Event())
    assert allowed.access_protocol == "BAC" and allowed.access_reason == "PACE_FAILED_FALLBACK"
    strict = _stage(lambda: InProcessTransceiver(_broken_pace_chip(document)), ReadOptions(fallback_to_bac=False))
    with pytest.raises(AuthenticationError):
        strict("t4", parse(TD3, today=NOW.date()), threading.Event())


@pytest.mark.parametrize("setting, fallback", [("", True), ("require_pace = true\n", False)])
def test_require_pace_reaches_the_lane_chip_stage(tmp_path: Path, setting, fallback):
    root = Path(__file__).resolve().parents[1]
    config = parse_config(
        f'[device]\nid = "gate-t1"\npost_id = "post-t"\ndata_dir = "{tmp_path / "var"}"\n'
        f'[reader]\nurl = "sim://"\n[camera]\nurl = "sim://"\n[face]\nmodels_dir = "{root / "models"}"\n'
        f'[gate]\npin_factory = "mock"\n[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n{setting}')
    stage = Appliance(config)._build_chip(PortraitVault())
    assert stage.options.fallback_to_bac is fallback

