"""SOD content types and Document Signer key usage as real issuers use them (issue 9: a genuine
passport whose SOD encapsulates id-data failed SOD_MALFORMED; DS keyUsage/EKU were not checked).

No real SOD is available here: each property is reproduced with the test PKI.
"""
from __future__ import annotations

import pytest

from firmware_app.emrtd.lds import parse_sod
from firmware_app.emrtd.lds.sod import ID_DATA
from firmware_app.emrtd.pa import PaReason, passive_authenticate
from passport_helpers import NOW, TD3, portrait, store_for
from simulator.passport_factory import PassportSpec, build_passport
from simulator.passport_factory import TestPki as Pki
from simulator.test_pki import Profile, make_crl, make_csca, make_document_signer

ICAO_LDS_SO = "2.23.136.1.1.1"
ML_SIGNER_PURPOSE = "2.23.136.1.1.3"  # ICAO id-icao-cscaMasterListSigningKey


def _pki(ds_profile: Profile = Profile()) -> Pki:
    csca = make_csca("profiles", NOW)
    ds = make_document_signer(csca, "profiles", NOW, serial=77, profile=ds_profile)
    return Pki(csca, ds, make_crl(csca, [], NOW))


PKI = _pki()


def _verify(content_type: str = ICAO_LDS_SO, test_pki: Pki = PKI):
    document = build_passport(PassportSpec(TD3, portrait(), sod_content_type=content_type), test_pki, NOW)
    return passive_authenticate(document.files["EF.SOD"], document.data_groups, store_for(test_pki), NOW)


def test_icao_content_type_passes_without_warning():
    result = _verify()
    assert result.passed and result.warnings == ()


@pytest.mark.parametrize("content_type,words", [(ID_DATA, "id-data"), ("1.3.27.1.1.1", "1.3.27.1.1.1"),
                                                 ("1.2.528.1.1006.1.20.1", "Sdu")])
def test_content_types_issuers_use_pass_with_a_warning(content_type, words):
    result = _verify(content_type)
    assert result.passed, result.failures
    assert any(words in warning for warning in result.warnings)


def test_unknown_content_type_is_refused_with_its_own_reason():
    result = _verify("1.2.3.4.5")
    assert result.reasons == (PaReason.SOD_CONTENT_TYPE,)
    assert "1.2.3.4.5" in result.failures[0].detail


def test_parse_sod_reports_the_content_type():
    document = build_passport(PassportSpec(TD3, portrait(), sod_content_type=ID_DATA), PKI, NOW)
    sod = parse_sod(document.files["EF.SOD"])
    assert sod.content_type == ID_DATA and sod.dg_hashes


@pytest.mark.parametrize("usage", [frozenset(), frozenset({"digital_signature", "non_repudiation"})])
def test_ds_key_usage_absent_or_with_digital_signature_passes(usage):
    result = _verify(test_pki=_pki(Profile(key_usage=usage)))
    assert result.passed and result.warnings == ()


def test_ds_key_usage_without_digital_signature_is_refused():
    result = _verify(test_pki=_pki(Profile(key_usage=frozenset({"non_repudiation", "key_cert_sign"}))))
    assert result.reasons == (PaReason.DS_KEY_USAGE,) and not result.chain_valid
    assert "digitalSignature" in result.failures[0].detail


@pytest.mark.parametrize("purposes", [("server_auth",), (ML_SIGNER_PURPOSE,), ("code_signing", "email_protection")])
def test_ds_extended_key_usage_excluding_document_signing_is_refused(purposes):
    result = _verify(test_pki=_pki(Profile(extended_key_usage=purposes)))
    assert result.reasons == (PaReason.DS_KEY_USAGE,)
    assert "excludes document signing" in result.failures[0].detail


@pytest.mark.parametrize("purposes", [("any_extended_key_usage",), ("1.3.6.1.5.5.7.3.36", "server_auth")])
def test_ds_extended_key_usage_allowing_document_signing_passes_with_a_warning(purposes):
    result = _verify(test_pki=_pki(Profile(extended_key_usage=purposes)))
    assert result.passed, result.failures
    assert any("extendedKeyUsage" in warning for warning in result.warnings)
