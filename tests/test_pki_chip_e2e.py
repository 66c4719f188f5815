"""The technician's whole path through real pcscd: a passport shaped like the real ones that failed
(issue 9) is read with `gatectl chip read --out`, against a store filled by `gatectl pki import`
from a pinned master list, and the dump is verified again offline with `gatectl chip verify`.

Shape reproduced with the test PKI (no real SOD is available here): CSCA and DS names with four
attributes, the SignerInfo naming the DS issuer with its attributes in reverse order, the SOD
encapsulating id-data, explicit-parameter EC keys on a curve `cryptography` does not know."""
from __future__ import annotations

import json

from asn1crypto import pem

from firmware_app.cli import main
from firmware_app.emrtd.lds.sod import ID_DATA
from simulator.cms_builder import SignerId, master_list
from simulator.passport_factory import AaKind, PassportSpec, build_passport
from simulator.passport_factory import TestPki as Pki
from simulator.test_pki import KeyKind, Profile, build_name, make_crl, make_csca, make_document_signer
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from tests.chip_fixtures import counter_rng
from tests.passport_helpers import NOW, TD3, portrait
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)

READER = "pcsc://Virtual PCD 00 00"
NAME = [("country_name", "UT", "printable"), ("organization_name", "Government of Utopia", "utf8"),
        ("organizational_unit_name", "Passport Office", "utf8"), ("common_name", "CSCA Utopia", "utf8")]


def _real_shaped_passport():
    csca = make_csca("e2e-real", NOW, KeyKind.ECDSA_EXPLICIT, profile=Profile(subject=build_name(NAME)))
    ds = make_document_signer(csca, "e2e-real", NOW, KeyKind.ECDSA_EXPLICIT_UNNAMED, serial=7001,
                              profile=Profile(subject=build_name(NAME[:3] + [("common_name", "DS 1", "utf8")])))
    spec = PassportSpec(TD3, portrait(), aa=AaKind.NONE, sod_content_type=ID_DATA,
                        sod_signer_id=SignerId(issuer_name=build_name(list(reversed(NAME)))))
    return build_passport(spec, Pki(csca, ds, make_crl(csca, [], NOW)), NOW), csca


def test_real_shaped_passport_read_and_verified_with_an_imported_pinned_store(pcscd_vpcd, tmp_path, capsys):
    document, csca = _real_shaped_passport()
    national_root = make_csca("e2e-root", NOW, KeyKind.ECDSA_P256, country="DE")
    signer = make_document_signer(national_root, "e2e-root", NOW, KeyKind.ECDSA_P256, serial=7002, label="ml")
    (tmp_path / "root.pem").write_bytes(pem.armor("CERTIFICATE", national_root.der))
    (tmp_path / "list.ml").write_bytes(master_list([csca.der, national_root.der], signer, NOW))
    store = ["--store", str(tmp_path / "store"), "--config", str(tmp_path / "none.toml")]
    assert main(["pki", "import", str(tmp_path / "list.ml"), "--ml-root", str(tmp_path / "root.pem"), *store]) == 0
    capsys.readouterr()
    card = insert_card(VirtualIcaoChip(chip_config(document), counter_rng("e2e-real")), pcscd_vpcd[1])
    try:
        code = main(["chip", "read", "--reader", READER, "--mrz", *TD3, "--trust-store", str(tmp_path / "store"),
                     "--json", "--out", str(tmp_path / "dump")])
    finally:
        remove_card(card)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["passive_auth"]
    passive = report["passive_auth"]
    assert passive["chain_valid"] is True and any("id-data" in w for w in passive["warnings"])
    dump = tmp_path / "dump"
    code = main(["chip", "verify", "--sod", str(dump / "EF.SOD.bin"), "--dg", f"1={dump / 'DG1.bin'}",
                 "--dg", f"2={dump / 'DG2.bin'}", "--trust-store", str(tmp_path / "store"), "--json"])
    verified = json.loads(capsys.readouterr().out)
    assert code == 0 and verified["result"] == "passed" and verified["sod"]["content_type"] == ID_DATA
