"""Passive authentication end to end on factory passports: every DS key kind, every forgery."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from firmware_app.emrtd.lds import parse_sod
from firmware_app.emrtd.pa import PaReason, TrustStore, passive_authenticate
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, load_public_key
from firmware_app.emrtd.pa.trust_store import parse_crl
from passport_helpers import NOW, passport, pki, store_for
from simulator.passport_factory import Forgery
from simulator.test_pki import KeyKind, make_crl


def _pa(document, store, now=NOW):
    return passive_authenticate(document.files["EF.SOD"], document.data_groups, store, now)


@pytest.mark.parametrize("kind", list(KeyKind))
def test_genuine_passport_passes_for_every_ds_key_kind(kind):
    document = passport(kind)
    result = _pa(document, store_for(document.pki))
    assert result.passed, result.failures
    assert (result.signature_valid, result.hashes_valid, result.chain_valid) == (True, True, True)
    assert result.to_json()["result"] == "passed"


def test_explicit_parameters_use_the_right_path():
    named = load_public_key(parse_sod(passport(KeyKind.ECDSA_EXPLICIT).files["EF.SOD"]).certificates[0].public_key)
    sod = parse_sod(passport(KeyKind.ECDSA_EXPLICIT_UNNAMED).files["EF.SOD"])
    unnamed = load_public_key(sod.certificates[0].public_key)
    assert named.curve.name == "brainpoolP256r1"  # mapped to a `cryptography` key
    assert isinstance(unnamed, ExplicitEcKey)  # verified by the in-house ECDSA


@pytest.mark.parametrize("csca_kind", [KeyKind.ECDSA_P256, KeyKind.ECDSA_EXPLICIT_UNNAMED, KeyKind.RSA_PSS])
def test_csca_key_kinds(csca_kind):
    test_pki = pki(KeyKind.ECDSA_P256, csca_kind)
    result = _pa(passport(KeyKind.ECDSA_P256, csca_kind=csca_kind), store_for(test_pki))
    assert result.passed, result.failures


@pytest.mark.parametrize("dg", [1, 2, 15])
def test_tampered_data_group(dg):
    document = passport(forgery=Forgery(tamper_dg=dg))
    result = _pa(document, store_for(document.pki))
    assert result.signature_valid and result.chain_valid
    assert not result.hashes_valid and not result.passed
    assert result.has(PaReason.DG_HASH_MISMATCH, dg)
    assert f"DG_HASH_MISMATCH(DG{dg})" in result.to_json()["reasons"]


@pytest.mark.parametrize("kind", [KeyKind.RSA_PKCS1, KeyKind.ECDSA_EXPLICIT_UNNAMED])
def test_wrong_signer(kind):
    document = passport(kind, forgery=Forgery(wrong_signer=True))
    result = _pa(document, store_for(document.pki))
    assert result.reasons == (PaReason.SOD_SIGNATURE_INVALID,)
    assert not result.signature_valid and result.hashes_valid


def test_expired_document_signer():
    document = passport(ds_expired=True)
    result = _pa(document, store_for(document.pki))
    assert result.reasons == (PaReason.DS_EXPIRED,)
    assert result.signature_valid and result.chain_valid is False


def test_not_yet_valid_and_expired_csca():
    document = passport()
    store = store_for(document.pki)
    assert _pa(document, store, NOW - timedelta(days=60)).has(PaReason.DS_NOT_YET_VALID)
    late = _pa(document, store, NOW + timedelta(days=365 * 20))
    assert late.has(PaReason.DS_EXPIRED) and late.has(PaReason.CSCA_EXPIRED)


def test_revoked_document_signer():
    document = passport(revoke_ds=True)
    result = _pa(document, store_for(document.pki))
    assert result.reasons == (PaReason.DS_REVOKED,)


def test_crl_not_signed_by_the_csca_is_ignored_with_a_warning():
    document = passport()
    other = pki(seed="other-country")
    forged_crl = bytearray(make_crl(document.pki.csca, [document.pki.ds.serial], NOW))
    forged_crl[-5] ^= 0xFF  # break the signature of a CRL that revokes our DS
    store = store_for(document.pki, with_crl=False)
    store.crls.append(parse_crl(bytes(forged_crl), "forged"))
    store.crls.append(parse_crl(other.crl, "other"))
    result = _pa(document, store)
    assert result.passed
    assert any("CRL ignored" in w for w in result.warnings)


def test_unknown_csca_and_missing_store():
    document = passport()
    foreign = store_for(pki(seed="other-country"))
    assert _pa(document, foreign).reasons == (PaReason.DS_NOT_TRUSTED,)
    assert _pa(document, TrustStore()).reasons == (PaReason.DS_NOT_TRUSTED,)
    no_store = _pa(document, None)
    assert no_store.chain_valid is None and no_store.reasons == (PaReason.NO_TRUST_STORE,)
    assert no_store.to_json()["chain_valid"] is None


def test_data_group_missing_from_sod():
    document = passport()
    groups = dict(document.data_groups)
    groups[11] = b"\x6b\x00"
    result = passive_authenticate(document.files["EF.SOD"], groups, store_for(document.pki), NOW)
    assert result.reasons == (PaReason.DG_NOT_IN_SOD,)


def test_changed_hash_inside_sod_breaks_message_digest():
    document = passport()
    sod = document.files["EF.SOD"]
    dg1_hash = parse_sod(sod).dg_hashes[1]
    forged = sod.replace(dg1_hash, bytes(32))
    result = passive_authenticate(forged, document.data_groups, store_for(document.pki), NOW)
    assert result.has(PaReason.SIGNED_ATTRS_INVALID)
    assert result.has(PaReason.DG_HASH_MISMATCH, 1)


def test_malformed_sod_and_naive_time():
    document = passport()
    result = passive_authenticate(b"\x77\x03\x30\x01\x00", document.data_groups, store_for(document.pki), NOW)
    assert result.reasons == (PaReason.SOD_MALFORMED,) and not result.passed
    with pytest.raises(ValueError, match="timezone"):
        passive_authenticate(document.files["EF.SOD"], {}, None, datetime(2026, 1, 1))


def test_sod_without_ds_certificate_needs_one_from_elsewhere():
    from passport_helpers import TD3, portrait
    from simulator.passport_factory import PassportSpec, build_passport

    test_pki = pki()
    document = build_passport(PassportSpec(TD3, portrait(), ds_in_sod=False), test_pki, NOW)
    store = store_for(test_pki)
    alone = passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW)
    assert alone.reasons == (PaReason.DS_CERT_MISSING,) and alone.chain_valid is False
    helped = passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW,
                                  ds_certificates=[test_pki.ds.certificate])
    assert helped.passed


def test_non_ca_certificate_in_the_store_is_no_anchor():
    from passport_helpers import TD3, portrait
    from simulator.passport_factory import PassportSpec, TestPki, build_passport
    from simulator.test_pki import issue, signing_key

    ds = pki().ds  # a Document Signer certificate (CA=false) ...
    sub_signer = issue(signing_key(KeyKind.ECDSA_P256, "tests", "sub"), "DS below a DS", 7,
                       NOW - timedelta(days=1), NOW + timedelta(days=30), issuer=ds)
    document = build_passport(PassportSpec(TD3, portrait()), TestPki(ds, sub_signer), NOW)
    store = TrustStore(cscas=[ds.certificate])  # ... wrongly configured as a trust anchor
    result = passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW)
    assert result.signature_valid and result.reasons == (PaReason.DS_NOT_TRUSTED,)
