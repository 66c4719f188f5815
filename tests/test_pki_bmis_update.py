"""The signed `pki-update` BMIS command: CSCAs, CRLs and master lists pushed to the gate's trust
store, checked as `gatectl pki import` checks them, and used by the next passive authentication."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from asn1crypto import pem

from firmware_app.appliance.pki_updates import TrustStoreUpdater
from firmware_app.bmis.contract import command_params_problems
from firmware_app.config import load_config
from firmware_app.emrtd.pa import PaReason, passive_authenticate
from passport_helpers import NOW, passport, pki
from simulator.cms_builder import master_list
from simulator.test_pki import KeyKind, make_csca, make_document_signer
from tests.bmis_command_helpers import ROOT, Bmis, FakeLane, make_processor
from tests.fakes import WallClock

GERMANY = make_csca("upd-de", NOW, KeyKind.ECDSA_P256, country="DE")
ML_SIGNER = make_document_signer(GERMANY, "upd", NOW, KeyKind.ECDSA_P256, serial=940, label="ml")
DOCUMENT = passport()


class Stage:
    """Stands in for the lane's ChipReadStage: only its trust_store attribute is used."""

    def __init__(self, store=None):
        self.trust_store = store


def _config(tmp_path):
    text = Path("config/default.toml").read_text().replace(
        'csca_dir = "config/csca"', f'csca_dir = "{tmp_path / "csca"}"').replace(
        'data_dir = "var"', f'data_dir = "{tmp_path / "var"}"')
    (tmp_path / "gate.toml").write_text(text)
    return load_config(tmp_path / "gate.toml")


def _file(name: str, data: bytes) -> dict:
    return {"name": name, "data": base64.b64encode(data).decode()}


@pytest.fixture
def env(tmp_path):
    clock, restored = WallClock(), []
    updater, stage = TrustStoreUpdater(_config(tmp_path), clock), Stage()
    updater.attach(stage, lambda: restored.append(True))
    bmis = Bmis(clock)
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, FakeLane(), pki=updater)
    yield bmis, processor, stage, restored, tmp_path / "csca"
    alerts.close()
    journal.close()


def _send(bmis, processor, files, signed=True):
    topic, payload = (bmis.signed if signed else bmis.unsigned)("pki-update", {"files": files})
    return processor.handle(topic, payload, f"{ROOT}/cmd-result", b"corr")


def _passes(store) -> bool:
    return passive_authenticate(DOCUMENT.files["EF.SOD"], DOCUMENT.data_groups, store, NOW).passed


def test_pushed_master_list_is_pinned_stored_and_used_by_the_next_check(env):
    bmis, processor, stage, restored, csca_dir = env
    bsi_list = master_list([GERMANY.der, pki().csca.der], ML_SIGNER, NOW)
    result = _send(bmis, processor, [_file("de.pem", pem.armor("CERTIFICATE", GERMANY.der)),
                                     _file("bsi.ml", bsi_list), _file("ut.crl", pki().crl)])
    assert result["status"] == "ack", result
    assert command_params_problems("pki-update", {"files": [_file("de.pem", b"x")]}) == []
    outcomes = {f["name"]: (f["outcome"], f["added"]) for f in result["result"]["files"]}
    assert outcomes == {"de.pem": ("added", 1), "bsi.ml": ("added", 1), "ut.crl": ("added", 0)}
    assert result["result"]["anchors"] == 2 and restored == [True]
    assert _passes(stage.trust_store) and len(list(csca_dir.iterdir())) == 3


def test_unpinned_list_is_refused_stored_nowhere_and_the_store_kept(env):
    bmis, processor, stage, _, csca_dir = env
    rogue = master_list([pki().csca.der], make_document_signer(pki().csca, "upd", NOW, serial=941, label="r"), NOW)
    result = _send(bmis, processor, [_file("rogue.ml", rogue)])
    assert result["status"] == "nack" and result["reason"] == "pki_refused"
    (entry,) = result["result"]["files"]
    assert entry["outcome"] == "refused" and "chains to no pinned root" in entry["reason"]
    assert stage.trust_store is None and list(csca_dir.iterdir()) == []


def test_unsigned_or_malformed_updates_are_refused_before_any_file_is_read(env):
    bmis, processor, stage, _, csca_dir = env
    unsigned = _send(bmis, processor, [_file("de.pem", GERMANY.der)], signed=False)
    assert unsigned["reason"] == "unsigned" and unsigned["alarm"] is True
    for files in ([], [{"name": "../x.der", "data": "AA=="}], [{"name": "x.der", "data": "not base64!"}]):
        assert _send(bmis, processor, files)["reason"] == "invalid_params"
    assert not csca_dir.exists() or list(csca_dir.iterdir()) == []


def test_revocation_pushed_as_a_crl_takes_effect(env):
    bmis, processor, stage, _, _ = env
    revoked = pki(revoke_ds=True)
    assert _send(bmis, processor, [_file("ut.der", revoked.csca.der)])["status"] == "ack"
    assert _passes(stage.trust_store)
    answer = _send(bmis, processor, [_file("ut.crl", revoked.crl)])
    assert answer["status"] == "ack", answer["result"]
    result = passive_authenticate(DOCUMENT.files["EF.SOD"], DOCUMENT.data_groups, stage.trust_store, NOW)
    assert result.reasons == (PaReason.DS_REVOKED,)
