"""LDS parsers on files built by the passport factory, plus hand-made malformed files."""
from __future__ import annotations

import pytest
from asn1crypto import core, keys

from firmware_app.emrtd.errors import LdsFormatError, LdsUnsupported
from firmware_app.emrtd.lds import (
    Dg1Check,
    asn1,
    compare_with_printed,
    decode_portrait,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg14,
    parse_dg15,
    parse_sod,
)
from firmware_app.emrtd.lds.com import encode_com
from firmware_app.emrtd.lds.dg1 import encode_dg1
from firmware_app.emrtd.lds.dg2 import BDB_39794_TAG, encode_dg2
from firmware_app.emrtd.lds.dg14 import Agreement, CaCipher
from firmware_app.emrtd.lds.face_record import ImageFormat, RecordStandard, encode_iso19794
from firmware_app.emrtd.pa.signature import digest
from firmware_app.emrtd.tlv import encode_tlv
from passport_helpers import TD1, TD3, passport, portrait
from simulator.passport_factory import AaKind


def test_ef_com_round_trip_and_unknown_tag():
    com = parse_com(encode_com([1, 2, 14, 15]))
    assert (com.lds_version, com.unicode_version, com.data_groups) == ("0107", "040000", (1, 2, 14, 15))
    bad = encode_tlv(0x60, encode_tlv(0x5F01, b"0107") + encode_tlv(0x5F36, b"040000") + encode_tlv(0x5C, b"\x61\x99"))
    with pytest.raises(LdsFormatError, match="unknown data-group tag 99"):
        parse_com(bad)


@pytest.mark.parametrize("lines", [TD3, TD1])
def test_dg1_lines_and_comparison(lines):
    dg1 = parse_dg1(encode_dg1(list(lines)))
    assert dg1.lines == lines
    assert compare_with_printed(dg1, list(lines)) is Dg1Check.MATCH
    changed = [lines[0], lines[1].replace("F", "M", 1)] + list(lines[2:])
    assert compare_with_printed(dg1, changed) is Dg1Check.DG1_MISMATCH
    assert "ERIKSSON" not in repr(dg1)  # personal data stays out of reprs


@pytest.mark.parametrize("mrz", [b"P<UTO" * 3, b"p" * 88, b"\xff" * 90])
def test_dg1_rejects_bad_mrz(mrz):
    with pytest.raises(LdsFormatError):
        parse_dg1(encode_tlv(0x61, encode_tlv(0x5F1F, mrz)))


def test_dg1_rejects_wrong_outer_tag_and_trailing_bytes():
    good = encode_dg1(list(TD3))
    with pytest.raises(LdsFormatError):
        parse_dg1(b"\x62" + good[1:])
    with pytest.raises(LdsFormatError):
        parse_dg1(good + b"\x00")


@pytest.mark.parametrize("jpeg2000", [False, True])
def test_dg2_portrait_decodes(jpeg2000):
    dg2 = parse_dg2(passport(jpeg2000=jpeg2000).files["DG2"])
    face = dg2.portrait
    assert face.standard is RecordStandard.ISO_19794_5
    assert face.image_format is (ImageFormat.JPEG2000 if jpeg2000 else ImageFormat.JPEG)
    assert (face.width, face.height) == (240, 320)
    assert decode_portrait(face).size == (240, 320)


def test_dg2_iso39794_record():
    from passport_helpers import NOW, pki
    from simulator.passport_factory import PassportSpec, build_passport

    image = portrait()
    document = build_passport(PassportSpec(TD3, image, iso39794=True), pki(), NOW)
    dg2 = parse_dg2(document.files["DG2"])
    assert dg2.portrait.standard is RecordStandard.ISO_39794_5
    assert dg2.portrait.image == image
    assert decode_portrait(dg2.portrait).size == (240, 320)


def test_dg2_iso39794_without_a_2d_image():
    block = encode_tlv(0xA1, encode_tlv(0x65, encode_tlv(0xA1, encode_tlv(0x30, encode_tlv(0x80, b"\x01")))))
    with pytest.raises(LdsFormatError, match="no 2D image"):
        parse_dg2(encode_dg2(block, bdb_tag=BDB_39794_TAG))


def test_dg2_unsupported_and_malformed_records():
    with pytest.raises(LdsUnsupported, match="neither JPEG"):
        parse_dg2(encode_dg2(encode_iso19794(b"GIF89a....", 1, 1)))
    record = bytearray(encode_iso19794(portrait(), 240, 320))
    record[4:8] = b"030\x00"
    with pytest.raises(LdsUnsupported, match="version"):
        parse_dg2(encode_dg2(bytes(record)))
    record[4:8] = b"010\x00"
    record[8:12] = (len(record) + 5).to_bytes(4, "big")
    with pytest.raises(LdsFormatError, match="inconsistent"):
        parse_dg2(encode_dg2(bytes(record)))


def test_dg2_corrupt_image_is_a_typed_error():
    image = portrait()[:400]  # truncated JPEG: header fine, data missing
    dg2 = parse_dg2(encode_dg2(encode_iso19794(image, 240, 320)))
    with pytest.raises(LdsFormatError, match="cannot be decoded"):
        decode_portrait(dg2.portrait)


def test_dg14_from_factory():
    dg14 = parse_dg14(passport(aa=AaKind.EC).files["DG14"])
    (info,) = dg14.chip_auth
    assert (info.agreement, info.cipher, info.version) == (Agreement.ECDH, CaCipher.AES128, 1)
    (key,) = dg14.chip_auth_keys
    assert key.ec_key["algorithm"]["parameters"].name == "specified"  # explicit params kept
    assert dg14.active_auth.signature_algorithm == asn1.ECDSA_PLAIN + ".3"


def test_dg14_dh_key_and_unknown_protocols():
    from firmware_app.emrtd.crypto.dh import RFC5114_1 as group

    params = asn1.DhDomain({"p": group.p, "g": group.g, "third": group.q})
    spki = asn1.GenericPublicKeyInfo({
        "algorithm": {"algorithm": "1.2.840.10046.2.1", "parameters": params},
        "public_key": core.Integer(pow(group.g, 12345, group.p)).dump(),
    })
    infos = asn1.SecurityInfos([
        asn1.SecurityInfo({"protocol": asn1.ID_PK_DH, "required_data": core.Any.load(spki.dump())}),
        asn1.SecurityInfo({"protocol": asn1.ID_CA_DH + ".1", "required_data": core.Integer(1)}),
        asn1.SecurityInfo({"protocol": asn1.ID_TA, "required_data": core.Integer(1)}),
    ])
    dg14 = parse_dg14(encode_tlv(0x6E, infos.dump()))
    assert dg14.chip_auth[0].cipher is CaCipher.DES3
    assert dg14.chip_auth_keys[0].dh_key.y == pow(group.g, 12345, group.p)
    assert dg14.other_protocols == (asn1.ID_TA,)


@pytest.mark.parametrize("aa", [AaKind.RSA, AaKind.EC])
def test_dg15_key(aa):
    dg15 = parse_dg15(passport(aa=aa).files["DG15"])
    assert dg15.algorithm == aa.value


def test_dg15_rejects_dsa_key():
    spki = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "dsa", "parameters": {"p": 23, "q": 11, "g": 4}},
        "public_key": core.Integer(8),
    })
    with pytest.raises(LdsUnsupported):
        parse_dg15(encode_tlv(0x6F, spki.dump()))


def test_sod_hashes_match_the_files():
    document = passport()
    sod = parse_sod(document.files["EF.SOD"])
    assert sod.hash_algorithm == "sha256"
    assert sod.dg_hashes == {n: digest("sha256", data) for n, data in document.data_groups.items()}
    assert len(sod.certificates) == 1


def test_sod_rejects_wrong_tag_and_garbage():
    sod = passport().files["EF.SOD"]
    with pytest.raises(LdsFormatError):
        parse_sod(b"\x78" + sod[1:])
    with pytest.raises(LdsFormatError):
        parse_sod(encode_tlv(0x77, b"\x30\x03\x02\x01\x01"))
