"""`gatectl chip read` against a factory passport on the virtual chip behind real pcscd."""
from __future__ import annotations

import json

import pytest

from firmware_app.cli import main
from simulator.passport_factory import AaKind, Forgery
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from tests.chip_fixtures import PACE_BRAINPOOL_AES128, counter_rng
from tests.passport_helpers import TD3, passport, pki
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)

READER = "pcsc://Virtual PCD 00 00"


def _insert(document, port, pace=None):
    chip = VirtualIcaoChip(chip_config(document, pace=pace, can="123456"), counter_rng("cli-chip"))
    return insert_card(chip, port)


@pytest.fixture()
def csca_dir(tmp_path):
    (tmp_path / "csca.der").write_bytes(pki().csca.der)
    return tmp_path


def test_genuine_passport_exit_0_with_json(pcscd_vpcd, csca_dir, tmp_path, capsys):
    card = _insert(passport(aa=AaKind.RSA), pcscd_vpcd[1], [PACE_BRAINPOOL_AES128])
    try:
        code = main(["chip", "read", "--reader", READER, "--mrz", *TD3, "--trust-store", str(csca_dir),
                     "--json", "--out", str(tmp_path / "out")])
    finally:
        remove_card(card)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["access"] == "PACE" and report["dg1_check"] == "MATCH"
    assert report["passive_auth"]["result"] == "passed" and report["passive_auth"]["chain_valid"] is True
    assert report["chip_auth"]["passed"] and report["active_auth"]["passed"]
    assert report["files"]["DG2"]["size"] > 5000 and report["dg1"]["document_number"] == "L898902C3"
    assert (tmp_path / "out" / "DG2.bin").stat().st_mode & 0o777 == 0o600
    assert {"result", "signature_valid", "hashes_valid", "chain_valid", "reasons"} <= set(report["passive_auth"])
    assert {"performed", "passed"} <= set(report["chip_auth"]) & set(report["active_auth"])
    assert report["apdus"] > 10 and report["bytes"] > report["files"]["DG2"]["size"]
    assert {"authenticate", "read_dg2", "chip_authentication", "active_authentication"} <= set(report["timings_ms"])


def test_clone_exit_1(pcscd_vpcd, capsys):
    card = _insert(passport(aa=AaKind.RSA, forgery=Forgery(clone=True)), pcscd_vpcd[1])
    try:
        code = main(["chip", "read", "--reader", READER, "--mrz", *TD3, "--json"])
    finally:
        remove_card(card)
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["access"] == "BAC"
    assert report["chip_auth"]["reason"] == "SM_FAILED_WITH_NEW_KEYS"
    assert report["passive_auth"]["chain_valid"] is None


def test_no_such_reader_and_bad_key_exit_2(capsys):
    assert main(["chip", "read", "--reader", "pcsc://No Such Reader", "--mrz", *TD3, "--json"]) == 2
    assert main(["chip", "read", "--reader", "No Such Reader", "--mrz", *TD3, "--json"]) == 2
    assert [json.loads(line)["error"] for line in capsys.readouterr().out.splitlines()] == ["ReaderNotFound"] * 2
    assert main(["chip", "read", "--reader", READER, "--can", "12AB"]) == 2
    assert main(["chip", "read", "--reader", "usb://x", "--can", "123456"]) == 2


@pytest.mark.parametrize("build_args, mapping, method", [
    ([], "gm", "CA"), (["--chip-auth", "dh", "--ca-cipher", "des3"], "gm", "CA"), ([], "im", "CA"),
    (["--pace-cam"], "cam", "CAM")])
def test_gatesim_chip_serve_then_gatectl_read(pcscd_vpcd, tmp_path, capsys, build_args, mapping, method):
    import threading
    import time

    from simulator.cli import main as gatesim
    assert gatesim(["passport", "build", "--out", str(tmp_path / "doc"), *build_args]) == 0
    server = threading.Thread(target=gatesim, args=(["chip", "serve", str(tmp_path / "doc"), "--pace", "13",
                                                      "--mapping", mapping,
                                                      "--port", str(pcscd_vpcd[1]), "--seconds", "2"],))
    server.start()
    try:
        code = 2
        for _ in range(40):  # until pcscd sees the served card
            code = main(["chip", "read", "--reader", READER, "--mrz", *TD3, "--json",
                         "--trust-store", str(tmp_path / "doc" / "trust")])
            if code != 2:
                break
            time.sleep(0.1)
    finally:
        server.join()
    out = capsys.readouterr().out
    assert "\"access\"" in out, out[-600:]
    report = json.loads(out[out.rindex('{\n  "access"'):])
    assert code == 0 and report["access"] == "PACE" and report["passive_auth"]["chain_valid"] is True
    assert report["chip_auth"]["passed"] and report["active_auth"]["passed"]
    assert report["chip_auth"]["check"] == method and mapping.upper() in report["access_detail"]


FAULTS = {  # fault -> (document knobs, trust-store knobs, reason the report must give)
    "tampered DG2": ({"forgery": Forgery(tamper_dg=2)}, {}, "DG_HASH_MISMATCH"),
    "bad SOD signature": ({"forgery": Forgery(wrong_signer=True)}, {}, "SOD_SIGNATURE_INVALID"),
    "expired DS": ({"ds_expired": True}, {}, "DS_EXPIRED"),
    "expired CSCA": ({"csca_expired": True}, {"csca_expired": True}, "CSCA_EXPIRED"),
    "unknown CSCA": ({}, {"seed": "another-state"}, "DS_NOT_TRUSTED"),
    "revoked DS": ({"revoke_ds": True}, {"revoke_ds": True}, "DS_REVOKED"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_document_faults_through_pcscd_exit_1_with_their_reason(pcscd_vpcd, tmp_path, capsys, fault):
    knobs, trust_knobs, reason = FAULTS[fault]
    (tmp_path / "csca.der").write_bytes(pki(**trust_knobs).csca.der)
    if pki(**trust_knobs).crl:
        (tmp_path / "csca.crl").write_bytes(pki(**trust_knobs).crl)
    card = _insert(passport(aa=AaKind.RSA, **knobs), pcscd_vpcd[1], [PACE_BRAINPOOL_AES128])
    try:
        code = main(["chip", "read", "--reader", "Virtual PCD 00 00", "--mrz", *TD3, "--trust-store", str(tmp_path),
                     "--json"])
    finally:
        remove_card(card)
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["passive_auth"]["result"] == "failed"
    assert reason in report["passive_auth"]["reasons"], report["passive_auth"]
    assert report["chip_auth"]["passed"] and report["active_auth"]["passed"]


def test_wrong_mac_recovers_and_wrong_key_is_unreadable_through_pcscd(pcscd_vpcd, csca_dir, capsys):
    from simulator.vchip.applet import ChipFaults

    chip = VirtualIcaoChip(chip_config(passport(aa=AaKind.RSA), faults=ChipFaults(corrupt_mac_on_read=4)),
                           counter_rng("cli-chip"))
    card = insert_card(chip, pcscd_vpcd[1])
    try:
        code = main(["chip", "read", "--reader", READER, "--mrz", *TD3, "--json", "--trust-store", str(csca_dir)])
        report = json.loads(capsys.readouterr().out)
        wrong_mrz = [TD3[0], TD3[1].replace("7408122", "7408139")]
        wrong_code = main(["chip", "read", "--reader", READER, "--mrz", *wrong_mrz, "--json"])
    finally:
        remove_card(card)
    assert code == 0 and report["reauthentications"] >= 1 and report["files"]["DG2"]["size"] > 5000, report
    failure = json.loads(capsys.readouterr().out.splitlines()[0])
    assert wrong_code == 2 and failure == {"read": False, "error": "AuthenticationError", "message": failure["message"]}
