"""Master-list signer pinning and the import report (issue 9: a master list was trusted whatever
signed it, and the duplicate check was quadratic)."""
from __future__ import annotations

import pytest
from asn1crypto import pem

from firmware_app.emrtd.errors import MasterListError, MlRefusal
from firmware_app.emrtd.pa import TrustStore, import_master_list, load_directory
from firmware_app.emrtd.pa.master_list import read_master_list
from passport_helpers import NOW, pki
from simulator.cms_builder import master_list
from simulator.test_pki import KeyKind, make_csca, make_document_signer


def _signer(authority, label="ml", **knobs):
    return make_document_signer(authority, "ml-tests", NOW, KeyKind.ECDSA_P256, serial=910, label=label, **knobs)


GERMANY = make_csca("ml-de", NOW, KeyKind.ECDSA_P256, country="DE")
OTHERS = [make_csca(f"ml-{c}", NOW, KeyKind.ECDSA_P256, country=c) for c in ("NL", "FR", "MY")]
BSI_LIST = master_list([GERMANY.der] + [c.der for c in OTHERS], _signer(GERMANY), NOW)


def test_list_self_vouching_but_unpinned_is_refused():
    """The signer is issued by a CSCA in the list (all ICAO asks); without a pin that proves nothing."""
    with pytest.raises(MasterListError) as refused:
        import_master_list(BSI_LIST, TrustStore())
    assert refused.value.reason is MlRefusal.SIGNER_NOT_PINNED
    assert "DE" in str(refused.value)


def test_list_pinned_by_its_countrys_csca_reports_the_anchors_it_added():
    store = TrustStore(pins=[GERMANY.certificate])
    report = import_master_list(BSI_LIST, store, source="de.ml", now=NOW)
    assert report.pinned_by == "DE CSCA DE test" and report.signer.startswith("DE ")
    assert sorted(c.subject.native["country_name"] for c in report.added) == ["DE", "FR", "MY", "NL"]
    assert set(store.sources.values()) == {"de.ml"}


def test_reimport_and_overlapping_lists_add_each_anchor_once():
    store = TrustStore(pins=[GERMANY.certificate, OTHERS[0].certificate])
    import_master_list(BSI_LIST, store)
    again = import_master_list(BSI_LIST, store)
    dutch = import_master_list(master_list([OTHERS[0].der, OTHERS[1].der], _signer(OTHERS[0], "nl"), NOW), store)
    assert (len(again.added), again.already_present) == (0, 4)
    assert (len(dutch.added), dutch.already_present) == (0, 2) and len(store.cscas) == 4


def test_list_signed_directly_by_a_pinned_root_is_accepted():
    data = master_list([OTHERS[0].der], GERMANY, NOW)
    assert read_master_list(data, [GERMANY.certificate]).pinned_by == GERMANY.certificate


def test_a_csca_from_one_list_does_not_pin_another():
    store = TrustStore(pins=[GERMANY.certificate])
    import_master_list(BSI_LIST, store)  # brings in NL's CSCA as an anchor, not as a pin
    dutch_list = master_list([OTHERS[0].der], _signer(OTHERS[0], "nl"), NOW)
    with pytest.raises(MasterListError, match="chains to no pinned root"):
        import_master_list(dutch_list, store)


def test_signer_issued_by_a_look_alike_of_the_pin_is_refused():
    impostor = make_csca("ml-de-impostor", NOW, KeyKind.ECDSA_P256, country="DE")  # same name, other key
    data = master_list([GERMANY.der], _signer(impostor, "fake"), NOW)
    with pytest.raises(MasterListError) as refused:
        import_master_list(data, TrustStore(pins=[GERMANY.certificate]))
    assert refused.value.reason is MlRefusal.SIGNER_NOT_PINNED


def test_expired_anchors_and_an_expired_signer_are_reported():
    old = make_csca("ml-old", NOW, KeyKind.ECDSA_P256, country="OL", expired=True)
    signer = _signer(GERMANY, "old-signer", valid_days=(-400, -1))
    report = import_master_list(master_list([old.der, OTHERS[2].der], signer, NOW),
                                TrustStore(pins=[GERMANY.certificate]), now=NOW)
    assert report.expired == 1 and len(report.added) == 2
    assert any("signer certificate has expired" in w for w in report.warnings)


def test_directory_pins_lists_with_its_csca_files_whatever_the_file_order(tmp_path, caplog):
    (tmp_path / "a-bsi.ml").write_bytes(BSI_LIST)
    (tmp_path / "z-germany.pem").write_bytes(pem.armor("CERTIFICATE", GERMANY.der))
    with caplog.at_level("INFO", logger="firmware_app.emrtd.pa.trust_store"):
        store = load_directory(tmp_path)
    assert ("a-bsi.ml signed by DE DS DE ecdsa-p256, pinned by DE CSCA DE test: 3 anchors added (FR MY NL)"
            in caplog.text)
    assert len(store.cscas) == 4 and [p.dump() for p in store.pins] == [GERMANY.der]


def test_directory_with_an_unpinned_list_is_refused(tmp_path):
    (tmp_path / "bsi.ml").write_bytes(BSI_LIST)
    (tmp_path / "ut.der").write_bytes(pki().csca.der)
    with pytest.raises(MasterListError, match="chains to no pinned root"):
        load_directory(tmp_path)


def test_unsigned_and_tampered_lists_have_their_reasons():
    data = bytearray(BSI_LIST)
    data[data.find(b"CSCA NL test")] ^= 0x20
    with pytest.raises(MasterListError) as refused:
        import_master_list(bytes(data), TrustStore(pins=[GERMANY.certificate]))
    assert refused.value.reason is MlRefusal.SIGNATURE_INVALID


def _config(tmp_path, roots: list[str]):
    from pathlib import Path

    from firmware_app.config import load_config
    text = Path("config/default.toml").read_text().replace(
        'csca_dir = "config/csca"', f'csca_dir = "{tmp_path / "csca"}"').replace(
        "master_list_roots = []", f"master_list_roots = {roots!r}".replace("'", '"'))
    (tmp_path / "gate.toml").write_text(text)
    return load_config(tmp_path / "gate.toml")


def test_appliance_store_refuses_an_unpinned_list_and_trusts_it_with_a_configured_root(tmp_path):
    from firmware_app.appliance.devices import load_trust_store
    from firmware_app.appliance.errors import ComponentUnavailable
    (tmp_path / "csca").mkdir()
    (tmp_path / "csca" / "bsi.ml").write_bytes(BSI_LIST)
    with pytest.raises(ComponentUnavailable, match="chains to no pinned root"):
        load_trust_store(_config(tmp_path, []))
    (tmp_path / "de-root.pem").write_bytes(pem.armor("CERTIFICATE", GERMANY.der))
    store = load_trust_store(_config(tmp_path, [str(tmp_path / "de-root.pem")]))
    assert len(store.cscas) == 4 and set(store.sources.values()) == {"bsi.ml"}
