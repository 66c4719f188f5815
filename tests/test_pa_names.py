"""Issuer/serial and key-identifier matching as real verifiers do it (issue 9: a genuine passport
whose SignerInfo names the DS issuer with the same attributes in another order failed).

No real SOD is available here: each property of the real documents is reproduced with the test PKI.
"""
from __future__ import annotations

import hashlib

from asn1crypto import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.pa import PaReason, TrustStore, passive_authenticate
from firmware_app.emrtd.pa.names import name_key, same_name
from passport_helpers import NOW, TD3, portrait
from simulator.cms_builder import SignerId
from simulator.passport_factory import PassportSpec, build_passport
from simulator.passport_factory import TestPki as Pki
from simulator.test_pki import Profile, build_name, make_crl, make_csca, make_document_signer

# the shape of a real CSCA/DS name: country first, then organisation, unit, common name
CSCA_NAME = [("country_name", "UT", "printable"), ("organization_name", "Government of Utopia", "utf8"),
             ("organizational_unit_name", "Passport Office", "utf8"), ("common_name", "CSCA Utopia", "utf8")]
DS_NAME = CSCA_NAME[:3] + [("common_name", "Document Signer 7", "utf8")]


def _pki(ds_profile: Profile = Profile(), csca_name=CSCA_NAME) -> Pki:
    csca = make_csca("names", NOW, profile=Profile(subject=build_name(csca_name)))
    ds_profile = Profile(**{**ds_profile.__dict__, "subject": ds_profile.subject or build_name(DS_NAME)})
    ds = make_document_signer(csca, "names", NOW, serial=4242, profile=ds_profile)
    return Pki(csca, ds, make_crl(csca, [], NOW))


def _check(test_pki: Pki, sid: SignerId = SignerId(), store_cscas=None):
    document = build_passport(PassportSpec(TD3, portrait(), sod_signer_id=sid), test_pki, NOW)
    store = TrustStore(cscas=list(store_cscas or [test_pki.csca.certificate]))
    return passive_authenticate(document.files["EF.SOD"], document.data_groups, store, NOW)


def test_signer_info_issuer_in_another_attribute_order_finds_the_ds():
    reordered = build_name(list(reversed(CSCA_NAME)))
    result = _check(_pki(), SignerId(issuer_name=reordered))
    assert result.passed, result.failures


def test_signer_info_issuer_with_other_string_types_case_and_spaces_finds_the_ds():
    variant = build_name([("country_name", "ut", "printable"),
                          ("organization_name", "GOVERNMENT  of utopia ", "printable"),
                          ("organizational_unit_name", "Passport Office", "bmp"),
                          ("common_name", "CSCA Utopia", "teletex")])
    assert _check(_pki(), SignerId(issuer_name=variant)).passed


def test_signer_info_issuer_with_another_value_is_not_the_ds():
    other = build_name(CSCA_NAME[:3] + [("common_name", "CSCA Utopia 2", "utf8")])
    assert _check(_pki(), SignerId(issuer_name=other)).reasons == (PaReason.DS_CERT_MISSING,)


def test_signer_info_issuer_missing_an_attribute_is_not_the_ds():
    assert _check(_pki(), SignerId(issuer_name=build_name(CSCA_NAME[:3]))).reasons == (PaReason.DS_CERT_MISSING,)


def test_signer_identified_by_subject_key_identifier():
    assert _check(_pki(), SignerId(by_key_identifier=True)).passed


def test_signer_key_identifier_without_the_extension_is_the_key_hash():
    test_pki = _pki(Profile(with_key_identifiers=False))
    key_hash = hashlib.sha1(bytes(test_pki.ds.certificate.public_key["public_key"])).digest()
    assert _check(test_pki, SignerId(by_key_identifier=True, key_identifier=key_hash)).passed
    wrong = _check(test_pki, SignerId(by_key_identifier=True, key_identifier=b"\x01" * 20))
    assert wrong.reasons == (PaReason.DS_CERT_MISSING,)


def test_ds_certificate_naming_its_csca_in_another_order_and_encoding_chains():
    issuer = build_name([CSCA_NAME[3], CSCA_NAME[1], ("organizational_unit_name", "passport  office", "printable"),
                         CSCA_NAME[0]])
    result = _check(_pki(Profile(issuer_name=issuer)))
    assert result.passed and result.chain_valid, result.failures


def test_csca_found_only_by_key_identifier_under_another_name_is_not_trusted():
    issuer = build_name(CSCA_NAME[:3] + [("common_name", "CSCA Elsewhere", "utf8")])
    result = _check(_pki(Profile(issuer_name=issuer)))
    assert result.reasons == (PaReason.DS_NOT_TRUSTED,)
    assert "another subject name" in result.failures[0].detail


def test_name_key_ignores_order_case_spaces_and_string_type():
    one = build_name(CSCA_NAME)
    other = build_name([(t, f"  {v.upper()} ", "bmp" if t != "country_name" else "printable")
                        for t, v, _ in reversed(CSCA_NAME)])
    assert same_name(one, other) and name_key(one) == name_key(other)
    assert not same_name(one, build_name(CSCA_NAME + [CSCA_NAME[1]]))  # a repeated attribute counts


def test_unnormalisable_name_matches_nothing():
    huge = build_name([("common_name", "x" * 5000, "utf8")])
    assert name_key(huge) is None and not same_name(huge, huge)
    many = build_name([("organizational_unit_name", f"u{i}", "utf8") for i in range(100)])
    assert name_key(many) is None


ATTRIBUTE = st.tuples(st.sampled_from(["country_name", "organization_name", "common_name", "serial_number",
                                       "organizational_unit_name", "locality_name"]),
                      st.text(min_size=1, max_size=20), st.sampled_from(["utf8", "bmp"]))


@settings(max_examples=60, deadline=None)
@given(attributes=st.lists(ATTRIBUTE, min_size=1, max_size=6), data=st.data())
def test_fuzz_name_key_is_order_free_and_never_raises(attributes, data):
    attributes = [(t, v, "utf8" if t in ("country_name", "serial_number") else k) for t, v, k in attributes]
    try:
        name = build_name(attributes)
        x509.Name.load(name.dump())
    except ValueError:  # asn1crypto refuses some texts for some types (e.g. PrintableString)
        return
    shuffled = build_name(data.draw(st.permutations(attributes)))
    key = name_key(x509.Name.load(name.dump()))
    assert key == name_key(x509.Name.load(shuffled.dump()))


@settings(max_examples=80, deadline=None)
@given(blob=st.binary(max_size=200))
def test_fuzz_name_key_on_hostile_bytes(blob):
    try:
        name = x509.Name.load(b"\x30" + bytes([len(blob)]) + blob if len(blob) < 128 else blob)
    except ValueError:
        return
    key = name_key(name)
    assert key is None or isinstance(key, tuple)
