"""CSCA trust store: directory of PEM/DER certificates, CRLs and ICAO master lists."""
from __future__ import annotations

import pytest
from asn1crypto import pem

from firmware_app.emrtd.errors import MasterListError, MlRefusal, TrustStoreError
from firmware_app.emrtd.pa import PaReason, TrustStore, import_master_list, load_directory, passive_authenticate
from passport_helpers import NOW, passport, pki
from simulator.cms_builder import master_list
from simulator.test_pki import KeyKind, make_document_signer


def _ml_signer(test_pki):
    return make_document_signer(test_pki.csca, "tests", NOW, KeyKind.RSA_PKCS1, serial=900, label="ml-signer")


def test_directory_with_pem_der_crl_and_master_list(tmp_path):
    ours, other, third = pki(), pki(seed="other-country"), pki(KeyKind.ECDSA_P256, KeyKind.ECDSA_P256, seed="third")
    (tmp_path / "ours.pem").write_bytes(pem.armor("CERTIFICATE", ours.csca.der))
    (tmp_path / "other.der").write_bytes(other.csca.der)
    (tmp_path / "ours.crl").write_bytes(ours.crl)
    # the list is signed by a signer of `ours`, whose CSCA file pins it
    (tmp_path / "list.ml").write_bytes(master_list([third.csca.der], _ml_signer(ours), NOW))
    (tmp_path / "README.txt").write_text("ignored")
    store = load_directory(tmp_path)
    assert len(store.cscas) == 3 and len(store.crls) == 1
    document = passport()
    assert passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW).passed


def test_master_list_import_enables_passive_auth():
    test_pki = pki(KeyKind.ECDSA_EXPLICIT, KeyKind.ECDSA_P256)
    store = TrustStore(pins=[test_pki.csca.certificate])
    data = master_list([test_pki.csca.der, pki().csca.der], _ml_signer(test_pki), NOW)
    assert len(import_master_list(data, store).added) == 2
    document = passport(KeyKind.ECDSA_EXPLICIT, csca_kind=KeyKind.ECDSA_P256)
    assert passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW).passed


def test_master_list_signed_by_an_outsider_is_refused():
    listed, outsider = pki(), pki(seed="other-country")
    data = master_list([listed.csca.der], _ml_signer(outsider), NOW)
    with pytest.raises(MasterListError, match="chains to no pinned root") as refused:
        import_master_list(data, TrustStore(pins=[listed.csca.certificate]))
    assert refused.value.reason is MlRefusal.SIGNER_NOT_PINNED
    store = TrustStore()
    import_master_list(data, store, verify=False)  # explicit opt-out still imports
    assert len(store.cscas) == 1


def test_tampered_master_list_is_refused():
    test_pki = pki()
    data = bytearray(master_list([test_pki.csca.der], _ml_signer(test_pki), NOW))
    position = data.find(b"CSCA UT test")
    data[position] ^= 0x20  # change a name inside the signed certificate list
    with pytest.raises(MasterListError):
        import_master_list(bytes(data), TrustStore(pins=[test_pki.csca.certificate]))


@pytest.mark.parametrize("name,content", [
                         ("bad.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                                          ("bad.der", b"\x30\x03\x02\x01\x01"), ("bad.crl", b"junk"),
                                          ("bad.ml", b"\x30\x00")])
def test_unusable_files_are_typed_errors(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(TrustStoreError):
        load_directory(tmp_path)


def test_missing_directory(tmp_path):
    with pytest.raises(TrustStoreError):
        load_directory(tmp_path / "absent")


def test_key_identifier_mismatch_is_not_trusted():
    """A CSCA with the right name but another key (e.g. after a key rollover) does not anchor the DS."""
    document = passport()
    impostor = pki(seed="tests-rollover")  # same country and names, different keys
    store = TrustStore(cscas=[impostor.csca.certificate])
    result = passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW)
    assert result.reasons == (PaReason.DS_NOT_TRUSTED,)
