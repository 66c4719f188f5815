"""Chip authentication key agreement: terminal and chip derive the same keys; clones do not."""
from __future__ import annotations

import pytest
from asn1crypto import core

from firmware_app.emrtd.chip_auth.ca import agree, choose_chip_auth, derive_session_keys, make_ephemeral, shared_secret
from firmware_app.emrtd.errors import BadChipKey, ChipAuthUnavailable, LdsFormatError
from firmware_app.emrtd.keys import KeyAlgorithm
from firmware_app.emrtd.lds import asn1, parse_dg14
from firmware_app.emrtd.lds.dg14 import Dg14
from firmware_app.emrtd.tlv import encode_tlv
from passport_helpers import passport
from simulator.chip_keys import chip_auth_shared_secret
from simulator.passport_factory import Forgery
from tests.chip_fixtures import seeded_rng


def test_terminal_and_chip_agree_on_aes_keys():
    document = passport()
    setup = choose_chip_auth(parse_dg14(document.files["DG14"]))
    ephemeral, keys = agree(setup, seeded_rng(11))
    assert keys.algorithm is KeyAlgorithm.AES128 and len(keys.ks_enc) == 16 and keys.ks_enc != keys.ks_mac
    chip_secret = chip_auth_shared_secret(document.ca_private_key, ephemeral.public)
    assert derive_session_keys(setup, chip_secret) == keys
    assert "private" not in repr(ephemeral) and keys.ks_enc.hex() not in repr(keys)


def test_randomness_is_injected():
    setup = choose_chip_auth(parse_dg14(passport().files["DG14"]))
    assert make_ephemeral(setup, seeded_rng(1)) == make_ephemeral(setup, seeded_rng(1))
    assert make_ephemeral(setup, seeded_rng(1)) != make_ephemeral(setup, seeded_rng(2))


def test_clone_derives_different_keys():
    document = passport(forgery=Forgery(clone=True))
    setup = choose_chip_auth(parse_dg14(document.files["DG14"]))
    ephemeral, keys = agree(setup, seeded_rng(11))
    assert derive_session_keys(setup, chip_auth_shared_secret(document.ca_private_key, ephemeral.public)) != keys


def _dh_dg14(y: int, group) -> Dg14:
    params = asn1.DhDomain({"p": group.p, "g": group.g, "third": group.q})
    spki = asn1.GenericPublicKeyInfo({
        "algorithm": {"algorithm": "1.2.840.10046.2.1", "parameters": params},
        "public_key": core.Integer(y).dump(),
    })
    infos = asn1.SecurityInfos([
        asn1.SecurityInfo({"protocol": asn1.ID_PK_DH, "required_data": core.Any.load(spki.dump())}),
        asn1.SecurityInfo({"protocol": asn1.ID_CA_DH + ".1", "required_data": core.Integer(1)}),
    ])
    return parse_dg14(encode_tlv(0x6E, infos.dump()))


def test_dh_agreement_with_3des():
    from firmware_app.emrtd.crypto.dh import RFC5114_1 as group

    chip_private = 0x5EC12E7 * 0x10001
    setup = choose_chip_auth(_dh_dg14(pow(group.g, chip_private, group.p), group))
    ephemeral, keys = agree(setup, seeded_rng(11))
    chip_secret = pow(int.from_bytes(ephemeral.public, "big"), chip_private, group.p).to_bytes(128, "big")
    assert keys.algorithm is KeyAlgorithm.DES3
    assert derive_session_keys(setup, chip_secret) == keys
    assert shared_secret(setup, ephemeral) == chip_secret


def test_dh_key_outside_the_subgroup_is_refused():
    from firmware_app.emrtd.crypto.dh import RFC5114_1 as group

    setup = choose_chip_auth(_dh_dg14(2, group))  # in range, but 2^q != 1 mod p
    with pytest.raises(BadChipKey):
        agree(setup, seeded_rng(11))
    with pytest.raises(LdsFormatError):  # p-1 has order 2: refused while parsing DG14
        _dh_dg14(group.p - 1, group)


def test_no_chip_authentication_offered():
    with pytest.raises(ChipAuthUnavailable):
        choose_chip_auth(Dg14((), (), (), None, ()))


def _ecdh_dg14(spki) -> Dg14:
    infos = asn1.SecurityInfos([
        asn1.SecurityInfo({"protocol": asn1.ID_PK_ECDH, "required_data": spki}),
        asn1.SecurityInfo({"protocol": asn1.ID_CA_ECDH + ".4", "required_data": core.Integer(1)}),
    ])
    return parse_dg14(encode_tlv(0x6E, infos.dump()))


def test_ecdh_on_a_curve_cryptography_does_not_know():
    from firmware_app.emrtd.crypto import ec as curve_math
    from simulator.test_pki import BRAINPOOL_P256T1 as curve
    from simulator.test_pki import explicit_spki

    chip_private = 0xA11CE
    chip_point = curve_math.multiply(curve, chip_private, curve_math.generator(curve))
    setup = choose_chip_auth(_ecdh_dg14(explicit_spki(curve, curve_math.encode_point(curve, chip_point))))
    ephemeral, keys = agree(setup, seeded_rng(11))
    terminal_point = curve_math.decode_point(curve, ephemeral.public)
    chip_view = curve_math.multiply(curve, chip_private, terminal_point)[0].to_bytes(32, "big")
    assert keys.algorithm is KeyAlgorithm.AES256
    assert derive_session_keys(setup, chip_view) == keys


def test_ecdh_chip_point_off_the_curve_is_refused():
    from firmware_app.emrtd.crypto.curves import NAMED_CURVES
    from simulator.test_pki import explicit_spki

    bad = b"\x04" + (3).to_bytes(32, "big") + (4).to_bytes(32, "big")
    setup = choose_chip_auth(_ecdh_dg14(explicit_spki(NAMED_CURVES["brainpoolP256r1"], bad)))
    with pytest.raises(BadChipKey):
        agree(setup, seeded_rng(11))
