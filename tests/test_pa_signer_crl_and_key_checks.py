"""Passive authentication and the trust store: content types, master-list signers, explicit
curve orders, PSS parameters, CRLs across a CSCA key rollover, RSA key sizes."""
from __future__ import annotations

import pytest
from asn1crypto import cms

from firmware_app.emrtd.errors import MasterListError
from firmware_app.emrtd.files import SOD_TAG
from firmware_app.emrtd.lds import asn1, parse_sod
from firmware_app.emrtd.pa import PaReason, TrustStore, import_master_list, passive_authenticate
from firmware_app.emrtd.tlv import encode_tlv
from passport_helpers import NOW, passport, pki, store_for
from simulator.cms_builder import _signer_info, master_list
from simulator.test_pki import KeyKind, make_document_signer

ID_DATA = "1.2.840.113549.1.7.1"


def _resigned_sod(document, attribute_content_type: str) -> bytes:
    """The genuine LDS security object, validly signed by the genuine DS, but with a contentType
    signed attribute naming another type than the encapsulated content."""
    test_pki = document.pki
    content = parse_sod(document.files["EF.SOD"]).encapsulated_content
    signer_info = _signer_info(attribute_content_type, content, test_pki.ds, NOW, test_pki.ds.key, "sha256")
    data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": asn1.ID_LDS_SECURITY_OBJECT, "content": content},
        "certificates": [test_pki.ds.certificate],
        "signer_infos": [signer_info],
    })
    return encode_tlv(SOD_TAG, cms.ContentInfo({"content_type": "signed_data", "content": data}).dump())


def test_resigned_sod_with_the_right_content_type_passes():
    document = passport()
    sod = _resigned_sod(document, asn1.ID_LDS_SECURITY_OBJECT)
    assert passive_authenticate(sod, document.data_groups, store_for(document.pki), NOW).passed


def test_content_type_attribute_must_name_the_encapsulated_content():
    document = passport()
    sod = _resigned_sod(document, ID_DATA)
    result = passive_authenticate(sod, document.data_groups, store_for(document.pki), NOW)
    assert not result.passed
    assert result.has(PaReason.SIGNED_ATTRS_INVALID)


def test_master_list_without_any_signer_is_refused():
    test_pki = pki(KeyKind.RSA_PKCS1, seed="review")
    signer = make_document_signer(test_pki.csca, "tests", NOW, KeyKind.RSA_PKCS1, serial=901, label="ml")
    info = cms.ContentInfo.load(master_list([test_pki.csca.der], signer, NOW))
    info["content"]["signer_infos"] = cms.SignerInfos([])
    with pytest.raises(MasterListError):
        import_master_list(info.dump(), TrustStore())


def _specified(curve, order: int, cofactor: int = 1):
    from asn1crypto import keys as akeys

    from firmware_app.emrtd.crypto.ec import encode_point, generator

    size = curve.size
    return akeys.SpecifiedECDomain({
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": curve.p},
        "curve": {"a": curve.a.to_bytes(size, "big"), "b": curve.b.to_bytes(size, "big")},
        "base": encode_point(curve, generator(curve)),
        "order": order,
        "cofactor": cofactor,
    })


def _next_prime(value: int) -> int:
    from firmware_app.emrtd.crypto.ec import is_probable_prime

    candidate = value + 2 if value % 2 else value + 1
    while not is_probable_prime(candidate):
        candidate += 2
    return candidate


def test_explicit_curve_with_its_true_order_is_accepted():
    from firmware_app.emrtd.crypto.curves import NAMED_CURVES
    from firmware_app.emrtd.pa.public_key import curve_from_specified

    real = NAMED_CURVES["secp256r1"]
    assert curve_from_specified(_specified(real, real.n)).n == real.n


@pytest.mark.parametrize("wrong_order", ["next_prime", "tiny"])
def test_explicit_curve_claiming_a_false_group_order_is_refused(wrong_order):
    # ECDSA and ECDH on a claimed order that is not the base point's order are meaningless
    # (with a tiny claimed order, r and s have a handful of possible values)
    from firmware_app.emrtd.crypto.curves import NAMED_CURVES
    from firmware_app.emrtd.errors import BadPublicKey
    from firmware_app.emrtd.pa.public_key import curve_from_specified

    real = NAMED_CURVES["secp256r1"]
    order = _next_prime(real.n) if wrong_order == "next_prime" else 5
    with pytest.raises(BadPublicKey):
        curve_from_specified(_specified(real, order))


def test_ds_certificate_with_pss_parameters_lacking_the_mgf_hash_is_a_typed_failure():
    from asn1crypto import algos, x509

    document = passport()
    info = cms.ContentInfo.load(_content_info(document))
    cert = x509.Certificate.load(info["content"]["certificates"][0].chosen.dump())
    cert["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": {
        "hash_algorithm": {"algorithm": "sha256"}, "mask_gen_algorithm": {"algorithm": "mgf1"}}})
    info["content"]["certificates"] = [x509.Certificate.load(cert.dump())]
    sod = encode_tlv(SOD_TAG, info.dump())
    result = passive_authenticate(sod, document.data_groups, store_for(document.pki), NOW)
    assert result.signature_valid and not result.passed
    assert result.has(PaReason.DS_NOT_TRUSTED)


def _content_info(document) -> bytes:
    from firmware_app.emrtd.tlv import read_header

    sod = document.files["EF.SOD"]
    return sod[read_header(sod).header_size:]


def test_crl_signed_by_the_countrys_newer_csca_key_revokes_a_ds_of_the_older_key():
    # CSCA key rollover keeps the subject name: the current key signs the CRL for all its DSs
    from firmware_app.emrtd.pa.chain import check_chain
    from firmware_app.emrtd.pa.trust_store import parse_crl
    from simulator.test_pki import make_crl, make_csca

    old, new = make_csca("rollover", NOW, label="old"), make_csca("rollover", NOW, label="new")
    assert old.certificate.subject == new.certificate.subject
    ds = make_document_signer(old, "rollover", NOW, serial=555)
    crl = parse_crl(make_crl(new, [555], NOW), "new.crl")
    failures, _ = check_chain(ds.certificate, TrustStore([old.certificate, new.certificate], [crl]), NOW)
    assert [f.reason for f in failures] == [PaReason.DS_REVOKED]


def test_crl_signed_by_a_foreign_key_under_the_same_name_is_still_ignored():
    from firmware_app.emrtd.pa.chain import check_chain
    from firmware_app.emrtd.pa.trust_store import parse_crl
    from simulator.test_pki import make_crl, make_csca

    trusted, outsider = make_csca("rollover", NOW, label="old"), make_csca("rollover", NOW, label="rogue")
    ds = make_document_signer(trusted, "rollover", NOW, serial=555)
    crl = parse_crl(make_crl(outsider, [555], NOW), "rogue.crl")
    failures, warnings = check_chain(ds.certificate, TrustStore([trusted.certificate], [crl]), NOW)
    assert failures == [] and warnings


@pytest.mark.parametrize("bits, accepted", [(512, False), (1024, True)])
def test_rsa_modulus_below_1024_bits_is_refused(bits, accepted):
    # a tiny modulus is factored in seconds: any AA or DS signature under it proves nothing
    from asn1crypto import keys as akeys

    from firmware_app.emrtd.errors import BadPublicKey
    from firmware_app.emrtd.pa.public_key import load_public_key

    modulus = (1 << (bits - 1)) | 0xF1  # odd, of exactly `bits` bits (its factors do not matter here)
    spki = akeys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                                "public_key": akeys.RSAPublicKey({"modulus": modulus, "public_exponent": 65537})})
    if accepted:
        assert load_public_key(spki).key_size == bits
    else:
        with pytest.raises(BadPublicKey):
            load_public_key(spki)
