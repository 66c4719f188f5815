"""`gatectl pki import|list|check` and `gatectl chip verify` on real files in a real directory."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import pem

from firmware_app.cli import main
from firmware_app.emrtd.lds.sod import ID_DATA
from firmware_app.emrtd.pa import load_directory, passive_authenticate
from passport_helpers import NOW, TD3, passport, pki, portrait
from simulator.cms_builder import master_list
from simulator.passport_factory import PassportSpec, build_passport
from simulator.test_pki import KeyKind, issue, make_crl, make_csca, make_document_signer, signing_key

REAL_NOW = datetime.now(UTC)


def _run(capsys, *argv) -> tuple[int, dict | str]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


@pytest.fixture
def files(tmp_path):
    """A CSCA (PEM), its CRL, a master list it pins (with two other CSCAs), an unpinned list."""
    ours, other, third = pki(), pki(seed="pki-cli-other"), pki(KeyKind.ECDSA_P256, KeyKind.ECDSA_P256, seed="pki-cli-3")
    signer = make_document_signer(ours.csca, "pki-cli", NOW, serial=930, label="ml")
    outsider = make_document_signer(other.csca, "pki-cli", NOW, serial=931, label="ml")
    paths = {"csca": tmp_path / "ut.pem", "crl": tmp_path / "ut.crl", "ml": tmp_path / "list.ml",
             "unpinned": tmp_path / "rogue.ml", "junk": tmp_path / "notes.txt"}
    paths["csca"].write_bytes(pem.armor("CERTIFICATE", ours.csca.der))
    paths["crl"].write_bytes(ours.crl)
    paths["ml"].write_bytes(master_list([other.csca.der, third.csca.der, ours.csca.der], signer, NOW))
    paths["unpinned"].write_bytes(master_list([other.csca.der], outsider, NOW))
    paths["junk"].write_text("not PKI")
    return paths


def _store_args(tmp_path):
    return ["--store", str(tmp_path / "store"), "--config", str(tmp_path / "no-config.toml")]


def test_import_reports_added_refused_and_is_idempotent(tmp_path, files, capsys):
    args = [str(files[k]) for k in ("csca", "crl", "ml", "unpinned", "junk")]
    code, report = _run(capsys, "pki", "import", *args, *_store_args(tmp_path), "--json")
    outcomes = {r["file"].rsplit("/", 1)[1]: r for r in report["files"]}
    assert code == 1  # two files refused
    assert outcomes["ut.pem"]["outcome"] == "added" and outcomes["ut.crl"]["outcome"] == "added"
    assert outcomes["list.ml"]["outcome"] == "added" and len(outcomes["list.ml"]["added"]) == 2
    assert outcomes["list.ml"]["already_present"] == 1  # our CSCA came in as a file first
    assert outcomes["rogue.ml"]["outcome"] == "refused" and "chains to no pinned root" in outcomes["rogue.ml"]["reason"]
    assert outcomes["notes.txt"]["outcome"] == "refused"
    stored = sorted(p.name for p in (tmp_path / "store").iterdir())
    code, again = _run(capsys, "pki", "import", *args[:3], *_store_args(tmp_path), "--json")
    assert code == 0 and {r["outcome"] for r in again["files"]} == {"present"}
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == stored
    document = passport()
    assert passive_authenticate(document.files["EF.SOD"], document.data_groups,
                                load_directory(tmp_path / "store"), NOW).passed


def test_import_refuses_crl_without_its_csca_and_non_ca_or_expired_certificates(tmp_path, files, capsys):
    expired = make_csca("pki-cli-old", REAL_NOW, country="OL", expired=True)
    (tmp_path / "old.der").write_bytes(expired.der)
    (tmp_path / "ds.der").write_bytes(pki().ds.der)
    code, report = _run(capsys, "pki", "import", str(files["crl"]), str(tmp_path / "old.der"), str(tmp_path / "ds.der"),
                        *_store_args(tmp_path), "--json")
    reasons = [r["reason"] for r in report["files"]]
    assert code == 1 and all(r["outcome"] == "refused" for r in report["files"])
    assert "no CSCA in the store signed this CRL" in reasons[0]
    assert reasons[1] == "expired" and report["files"][1]["expired"] == 1
    assert "not a CA certificate" in reasons[2]


def test_ml_root_pins_a_list_and_list_shows_sources(tmp_path, files, capsys):
    root = tmp_path / "root.der"
    root.write_bytes(pki(seed="pki-cli-other").csca.der)
    code, _ = _run(capsys, "pki", "import", str(files["unpinned"]), "--ml-root", str(root), *_store_args(tmp_path))
    assert code == 0 and [p.name[:8] for p in (tmp_path / "store" / "roots").iterdir()] == ["root-UT-"]
    code, listing = _run(capsys, "pki", "list", *_store_args(tmp_path), "--json")  # the store pins it itself
    (anchor,) = listing["anchors"]
    assert code == 0 and anchor["country"] == "UT" and anchor["source"].startswith("ml-UT-")
    assert anchor["key_id"] and anchor["not_after"] > anchor["not_before"]


def _expiring_csca(days: int):
    key = signing_key(KeyKind.ECDSA_P256, "pki-cli-exp", "csca")
    return issue(key, "CSCA EX test", 1, REAL_NOW - timedelta(days=900), REAL_NOW + timedelta(days=days),
                 is_ca=True, country="EX")


@pytest.mark.parametrize("days,crl_age,finding", [(400, 0, None), (30, 0, "expiring"), (-2, 0, "expired"),
                                                  (400, 60, "crl_stale")])
def test_check_flags_what_needs_attention(tmp_path, capsys, days, crl_age, finding):
    store = tmp_path / "store"
    store.mkdir()
    csca = _expiring_csca(days)
    (store / "ex.der").write_bytes(csca.der)
    (store / "ex.crl").write_bytes(make_crl(csca, [], REAL_NOW - timedelta(days=crl_age)))
    code, report = _run(capsys, "pki", "check", *_store_args(tmp_path), "--json")
    flagged = [item["finding"] for item in report["items"] if item["attention"]]
    assert flagged == ([finding] if finding else []) and code == (1 if finding else 0)


def test_check_names_a_file_the_gate_would_refuse(tmp_path, capsys):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "bad.der").write_bytes(b"\x30\x03\x02\x01\x01")
    code, report = _run(capsys, "pki", "check", *_store_args(tmp_path), "--json")
    assert code == 1 and [i["finding"] for i in report["items"]] == ["unusable_file", "no_anchors"]
    assert "bad.der" in report["items"][0]["detail"]


def test_a_store_the_gate_refuses_can_be_repaired_by_importing_the_pinning_csca(tmp_path, files, capsys):
    store = tmp_path / "store"
    store.mkdir()
    (store / "list.ml").write_bytes(files["ml"].read_bytes())  # dropped in by hand: nothing pins it
    assert main(["pki", "check", *_store_args(tmp_path)]) == 1
    code, _ = _run(capsys, "pki", "import", str(files["csca"]), *_store_args(tmp_path))
    assert code == 0 and len(load_directory(store).cscas) == 3


@pytest.fixture
def dump(tmp_path):
    document = build_passport(PassportSpec(TD3, portrait(), sod_content_type=ID_DATA), pki(), NOW)
    for name, data in document.files.items():
        (tmp_path / f"{name}.bin").write_bytes(data)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "csca.der").write_bytes(pki().csca.der)
    return tmp_path


def _verify_args(dump, *groups):
    return ["chip", "verify", "--sod", str(dump / "EF.SOD.bin"), "--trust-store", str(dump / "trust"),
            *[a for n in groups for a in ("--dg", f"{n}={dump / f'DG{n}.bin'}")]]


def test_chip_verify_passes_a_genuine_dump_with_its_warnings(dump, capsys):
    code, report = _run(capsys, *_verify_args(dump, 1, 2, 14, 15), "--at", "2026-06-01", "--json")
    assert code == 0 and report["result"] == "passed" and report["checked_groups"] == ["DG1", "DG2", "DG14", "DG15"]
    assert report["sod"]["content_type"] == ID_DATA and any("id-data" in w for w in report["warnings"])


def test_chip_verify_fails_a_tampered_group_and_a_date_before_the_ds(dump, capsys):
    data = bytearray((dump / "DG1.bin").read_bytes())
    data[-1] ^= 1
    (dump / "DG1.bin").write_bytes(bytes(data))
    code, report = _run(capsys, *_verify_args(dump, 1), "--at", "2026-06-01T12:00:00+02:00", "--json")
    assert code == 1 and report["reasons"] == ["DG_HASH_MISMATCH(DG1)"]
    code, report = _run(capsys, *_verify_args(dump, 2), "--at", "2020-01-01", "--json")
    assert code == 1 and "DS_NOT_YET_VALID" in report["reasons"]


@pytest.mark.parametrize("extra", [["--at", "yesterday"], ["--dg", "17=x"], ["--dg", "1"], ["--dg", "1=/nonexistent"]])
def test_chip_verify_usage_errors_exit_2(dump, extra):
    assert main(_verify_args(dump) + extra) == 2


def test_chip_verify_without_a_store_directory_is_a_usage_error(dump, tmp_path):
    config = tmp_path / "gate.toml"
    config.write_text((__import__("pathlib").Path("config/default.toml")).read_text().replace(
        'csca_dir = "config/csca"', f'csca_dir = "{tmp_path / "absent"}"'))
    assert main(["chip", "verify", "--sod", str(dump / "EF.SOD.bin"), "--config", str(config)]) == 2


def test_sniff_tells_crls_with_revocations_from_certificates_and_lists():
    from firmware_app.emrtd.pa.provision import FileKind, sniff
    revoked = pki(revoke_ds=True)
    signer = make_document_signer(revoked.csca, "pki-cli", NOW, serial=932, label="ml")
    assert sniff(revoked.crl) is FileKind.CRL and sniff(pem.armor("X509 CRL", revoked.crl)) is FileKind.CRL
    assert sniff(revoked.csca.der) is FileKind.CERTIFICATE and sniff(b"\x30\x00") is FileKind.UNKNOWN
    assert sniff(master_list([revoked.csca.der], signer, NOW)) is FileKind.MASTER_LIST
