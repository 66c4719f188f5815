"""PACE ECDH generic mapping on brainpoolP256r1 with AES-128 (9303-11 G.1), byte for byte."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.smartcard.scripted import ScriptedTransceiver
from firmware_app.emrtd.errors import AuthenticationError, TlvError, UnsupportedProtocol
from firmware_app.emrtd.keys import KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.pace.groups import group_for
from firmware_app.emrtd.pace.info import (
    SUPPORTED_PARAMETER_IDS,
    Mapping,
    PaceInfo,
    choose_pace_info,
    parse_card_access,
)
from firmware_app.emrtd.pace.protocol import perform_pace
from firmware_app.emrtd.session import Session
from tests.emrtd_vectors import fixed_rng, h, load_vectors


@pytest.fixture()
def g1(shared_data):
    return load_vectors(shared_data)["pace_G1_ecdh_gm_brainpoolP256r1_aes128"]


def _key(g1) -> MrzKey:
    m = g1["mrz"]
    return MrzKey(m["document_number"], m["birth_date"], m["expiry_date"])


def test_card_access_parsed(g1):
    infos = parse_card_access(h(g1["ef_cardaccess"]))
    assert infos == [PaceInfo(g1["pace_info_oid"], 2, g1["parameter_id"])]
    assert infos[0].mapping is Mapping.ECDH_GM and infos[0].algorithm is KeyAlgorithm.AES128
    assert choose_pace_info(infos, SUPPORTED_PARAMETER_IDS) == infos[0]


def test_password_key_and_mapping_intermediates(g1):
    key = _key(g1)
    assert key.pace_password() == h(g1["k"])
    assert kdf(h(g1["k"]), KeyPurpose.PACE_PASSWORD, KeyAlgorithm.AES128) == h(g1["k_pi"])
    group = group_for(13)
    assert group.public_key(int(g1["sk_map_ifd"], 16)) == h(g1["pk_map_ifd"])
    mapped = group.mapped(int(g1["nonce_s"], 16), int(g1["sk_map_ifd"], 16), h(g1["pk_map_ic"]))
    assert group.public_key_object(group.public_key(1)) and mapped.public_key(1) == h(g1["mapped_generator"])
    assert mapped.shared_secret(int(g1["sk_ifd"], 16), h(g1["pk_ic"])) == h(g1["shared_secret_x"])


def test_pace_replays_appendix_g1(g1):
    card = ScriptedTransceiver((h(x["command"]), h(x["response"])) for x in g1["apdus"])
    session = Session(card)
    info = parse_card_access(h(g1["ef_cardaccess"]))[0]
    result = perform_pace(session, _key(g1), info, fixed_rng(h(g1["sk_map_ifd"]), h(g1["sk_ifd"])))
    card.assert_finished()
    assert result.protocol.value == "PACE" and result.sm.ssc == 0
    assert result.sm._ks_enc == h(g1["ks_enc"]) and result.sm._ks_mac == h(g1["ks_mac"])


def test_pace_rejects_bad_chip_token(g1):
    script = [(h(x["command"]), h(x["response"])) for x in g1["apdus"]]
    last = bytearray(script[-1][1])
    last[5] ^= 0xFF
    script[-1] = (script[-1][0], bytes(last))
    info = parse_card_access(h(g1["ef_cardaccess"]))[0]
    with pytest.raises(AuthenticationError, match="token"):
        perform_pace(Session(ScriptedTransceiver(script)), _key(g1), info,
                     fixed_rng(h(g1["sk_map_ifd"]), h(g1["sk_ifd"])))


def test_pace_rejects_point_off_curve(g1):
    script = [(h(x["command"]), h(x["response"])) for x in g1["apdus"][:3]]
    bad = bytearray(script[2][1])
    bad[10] ^= 1
    script[2] = (script[2][0], bytes(bad))
    info = parse_card_access(h(g1["ef_cardaccess"]))[0]
    with pytest.raises(AuthenticationError, match="curve"):
        perform_pace(Session(ScriptedTransceiver(script)), _key(g1), info,
                     fixed_rng(h(g1["sk_map_ifd"]), h(g1["sk_ifd"])))


def test_variant_choice_prefers_cam_then_gm_then_im_and_skips_impossible_ones():
    gm, im = PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13), PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13)
    cam = PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13)
    assert choose_pace_info([im, gm, cam], SUPPORTED_PARAMETER_IDS) == cam
    assert choose_pace_info([im, gm], SUPPORTED_PARAMETER_IDS) == gm
    assert choose_pace_info([im], SUPPORTED_PARAMETER_IDS) == im
    dh_im = PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 0)
    assert choose_pace_info([dh_im], SUPPORTED_PARAMETER_IDS) == dh_im
    for impossible in (PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 10),  # IM needs p = 3 mod 4: not P-224
                       PaceInfo("0.4.0.127.0.7.2.2.4.6.1", 2, 13),  # CAM is defined with AES only
                       PaceInfo("0.4.0.127.0.7.2.2.4.3.2", 2, 13),  # a DH mapping on a curve id
                       PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 7)):  # a reserved parameter id
        with pytest.raises(UnsupportedProtocol, match="no supported PACE variant"):
            choose_pace_info([impossible], SUPPORTED_PARAMETER_IDS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_card_access_only_typed_errors(data):
    try:
        parse_card_access(data)
    except TlvError:
        pass
