"""PACE variants replayed byte for byte from ICAO 9303-11 worked examples: G.2 (GM, DH), H.1 (IM,
ECDH brainpoolP256r1, CAN), H.2 (IM, DH, CAN) and I.1 (CAM, ECDH brainpoolP256r1, MRZ).

The chip side is a scripted card answering with the example's values; the terminal's randomness is
the example's private keys and nonce t. What we send (public keys, t, T_PCD) must equal the example.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.smartcard.scripted import ScriptedTransceiver
from firmware_app.emrtd.apdu import CommandApdu
from firmware_app.emrtd.cipher import AesSuite, Des3Suite
from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import AuthenticationError, CamError
from firmware_app.emrtd.keys import CanKey, KeyAlgorithm, KeyPurpose, MrzKey, kdf
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.pace.cam import decrypt_chip_auth_data, verify_chip_auth_data
from firmware_app.emrtd.pace.groups import group_for
from firmware_app.emrtd.pace.im import encode_point, map_integrated, pseudo_random, reduced
from firmware_app.emrtd.pace.info import Mapping, parse_card_access
from firmware_app.emrtd.pace.protocol import perform_pace
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.tlv import encode_tlv
from tests.emrtd_vectors import fixed_rng, h, load_pace_variants

OK = b"\x90\x00"


@pytest.fixture(scope="module")
def variants(shared_data):
    return load_pace_variants(shared_data)


def _key(vector):
    if vector["password_type"] == "CAN":
        return CanKey(vector["password"])
    m = vector["mrz_fields"]
    return MrzKey(m["document_number"], m["date_of_birth"], m["date_of_expiry"])


def _ga(cla: int, tag: int, value: bytes) -> bytes:
    body = encode_tlv(0x7C, encode_tlv(tag, value) if value else b"")
    return CommandApdu(cla, 0x86, 0, 0, body, ne=256).encode()


def _dyn(*objects: tuple[int, bytes]) -> bytes:
    return encode_tlv(0x7C, b"".join(encode_tlv(tag, value) for tag, value in objects)) + OK


def _script(v: dict, integrated: bool) -> list[tuple[bytes, bytes]]:
    """The five commands the example's terminal sends, and the example chip's answers."""
    password = 2 if v["password_type"] == "CAN" else 1
    set_at = encode_tlv(0x80, encode_oid(v["oid"])) + encode_tlv(0x83, bytes([password])) \
        + encode_tlv(0x84, bytes([v["parameter_id"]]))
    mapping = (h(v["nonce_t"]), _dyn((0x82, b""))) if integrated else \
        (h(v["map_terminal_public"]), _dyn((0x82, h(v["map_chip_public"]))))
    last = h(v["ga_step4_response_data"]) + OK if "ga_step4_response_data" in v else _dyn((0x86, h(v["t_ic"])))
    return [
        (CommandApdu(0, 0x22, 0xC1, 0xA4, set_at).encode(), OK),
        (_ga(0x10, 0x80, b""), _dyn((0x80, h(v["encrypted_nonce_z"])))),
        (_ga(0x10, 0x81, mapping[0]), mapping[1]),
        (_ga(0x10, 0x83, h(v["ka_terminal_public"])), _dyn((0x84, h(v["ka_chip_public"])))),
        (_ga(0x00, 0x85, h(v["t_pcd"])), last),
    ]


def _terminal_random(v: dict, integrated: bool):
    group = STANDARD_PARAMETERS[v["parameter_id"]]
    order = group.n if hasattr(group, "n") else group.q
    size = (order.bit_length() + 7) // 8
    # H.2 quotes 1024-bit (BSI) terminal keys: the same key modulo q gives the same public key
    ka = (int(v["ka_terminal_private"], 16) % order).to_bytes(size, "big")
    first = h(v["nonce_t"]) if integrated else (int(v["map_terminal_private"], 16) % order).to_bytes(size, "big")
    return fixed_rng(first, ka)


def _replay(v: dict, integrated: bool):
    card = ScriptedTransceiver(_script(v, integrated))
    info = parse_card_access(encode_tlv(0x31, h(v["pace_info_der"])))[0]
    result = perform_pace(Session(card), _key(v), info, _terminal_random(v, integrated))
    card.assert_finished()  # every command we sent equalled the example's, T_PCD included
    assert result.sm._ks_enc == h(v["k_enc"]) and result.sm._ks_mac == h(v["k_mac"])
    return info, result


@pytest.mark.parametrize("name, mapping", [("gm_dh", Mapping.DH_GM), ("im_ecdh", Mapping.ECDH_IM),
                                           ("im_dh", Mapping.DH_IM), ("cam_ecdh", Mapping.ECDH_CAM)])
def test_worked_example_replays_byte_for_byte(variants, name, mapping):
    v = variants[name]
    info, result = _replay(v, integrated=mapping in (Mapping.ECDH_IM, Mapping.DH_IM))
    assert info.mapping is mapping and info.algorithm is KeyAlgorithm.AES128
    assert (result.cam is not None) == (mapping is Mapping.ECDH_CAM)


@pytest.mark.parametrize("name", ["gm_dh", "im_ecdh", "im_dh", "cam_ecdh"])
def test_password_keys_and_shared_secret(variants, name):
    v = variants[name]
    assert _key(v).pace_password() == h(v["k_password"])  # the CAN as ASCII, the MRZ hashed
    assert kdf(h(v["k_password"]), KeyPurpose.PACE_PASSWORD, KeyAlgorithm.AES128) == h(v["k_pi"])
    assert AesSuite().decrypt(h(v["k_pi"]), h(v["encrypted_nonce_z"])) == h(v["nonce_s"])
    base = group_for(v["parameter_id"])
    if "nonce_t" in v:
        mapped = map_integrated(base, AesSuite(), KeyAlgorithm.AES128, h(v["nonce_s"]), h(v["nonce_t"]))
    else:
        mapped = base.mapped(int(v["nonce_s"], 16), int(v["map_terminal_private"], 16), h(v["map_chip_public"]))
    assert mapped.public_key(1) == h(v["mapped_generator"])
    assert mapped.public_key(int(v["ka_terminal_private"], 16)) == h(v["ka_terminal_public"])
    assert mapped.shared_secret(int(v["ka_terminal_private"], 16), h(v["ka_chip_public"])) == h(v["shared_secret_k"])


@pytest.mark.parametrize("name", ["im_ecdh", "im_dh"])
def test_pseudo_random_function_intermediates(variants, name):
    v = variants[name]
    group = STANDARD_PARAMETERS[v["parameter_id"]]
    r = pseudo_random(AesSuite(), KeyAlgorithm.AES128, h(v["nonce_s"]), h(v["nonce_t"]), group.p.bit_length())
    assert r == h(v["prf_R"])
    assert reduced(r, group.p) == int(v["prf_Rp"], 16)
    if "prf_keys_k0_k1_k2" in v:  # k0 = E(t, s): s is encrypted under the key t, not the reverse
        k0 = AesSuite().encrypt(h(v["nonce_t"]), h(v["nonce_s"]))
        assert k0 == h(v["prf_keys_k0_k1_k2"][0])


def test_cam_chip_authentication_data(variants):
    v = variants["cam_ecdh"]
    curve = STANDARD_PARAMETERS[13]
    ca_ic = decrypt_chip_auth_data(h(v["k_enc"]), h(v["encrypted_chip_auth_data_a_ic"]))
    assert ca_ic == h(v["chip_auth_data_ca_ic"])
    _, result = _replay(v, integrated=False)
    assert result.cam.ca_ic == ca_ic and result.cam.pk_map_ic == h(v["map_chip_public"])
    pk_ic = ec.decode_point(curve, h(v["chip_static_public_pk_ic"]))
    verify_chip_auth_data(result.cam, pk_ic)
    other = ec.multiply(curve, 7, pk_ic)  # a clone holding another key
    with pytest.raises(CamError, match="mapping key"):
        verify_chip_auth_data(result.cam, other)


def test_cam_iv_is_the_encrypted_all_ones_block(variants):
    v = variants["cam_ecdh"]
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    encryptor = Cipher(algorithms.AES(h(v["k_enc"])), modes.ECB()).encryptor()
    assert encryptor.update(b"\xff" * 16) + encryptor.finalize() == h(v["cam_iv"])


def test_wrong_chip_token_fails_im(variants):
    v = variants["im_ecdh"]
    script = _script(v, integrated=True)
    script[-1] = (script[-1][0], _dyn((0x86, bytes(8))))
    info = parse_card_access(encode_tlv(0x31, h(v["pace_info_der"])))[0]
    with pytest.raises(AuthenticationError, match="token"):
        perform_pace(Session(ScriptedTransceiver(script)), _key(v), info, _terminal_random(v, True))


def test_three_des_form_of_the_prf():
    """3DES counts as a 128-bit key: s and t are 16 bytes, each E is two-key 3DES-CBC with zero IV."""
    s, t = bytes(range(16)), bytes(range(16, 32))
    p_bits = 256
    r = pseudo_random(Des3Suite(), KeyAlgorithm.DES3, s, t, p_bits)
    assert len(r) == 48
    k0 = Des3Suite().encrypt(t, s)
    c1 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
    assert r[:16] == Des3Suite().encrypt(k0, c1)
    assert r != pseudo_random(AesSuite(), KeyAlgorithm.AES128, s, t, p_bits)
    with pytest.raises(AuthenticationError):
        pseudo_random(Des3Suite(), KeyAlgorithm.DES3, s[:8], t, p_bits)


def test_aes256_form_uses_the_256_bit_constants():
    s, t = bytes(32), bytes(range(32))
    r = pseudo_random(AesSuite(), KeyAlgorithm.AES256, s, t, 256)
    assert len(r) == 64  # n = 2 blocks of 256 bits >= 256 + 64


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1))
def test_point_encoding_always_lands_on_the_curve(value):
    curve = STANDARD_PARAMETERS[13]
    t = value % curve.p
    if t in (0, 1, curve.p - 1):  # t = 0 is outside the domain; t = +-1 makes alpha + alpha^2 = 0
        t = 2
    point = encode_point(curve, t)
    assert ec.on_curve(curve, point) and ec.has_order_n(curve, point)


def test_point_encoding_refuses_p_1_mod_4():
    with pytest.raises(AuthenticationError, match="3 mod 4"):
        encode_point(STANDARD_PARAMETERS[10], 5)  # NIST P-224


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.none(), st.binary(max_size=200)))
def test_fuzz_chip_authentication_data_never_raises_untyped(a_ic):
    """Whatever the chip puts in 8A, CAM records a problem (a clone) instead of crashing the read."""
    from firmware_app.emrtd.pace.cam import cam_data

    curve = STANDARD_PARAMETERS[13]
    cam = cam_data(curve, ec.encode_point(curve, ec.generator(curve)), bytes(16), a_ic)
    if cam.ca_ic is None:
        assert cam.problem
    with pytest.raises(CamError):
        verify_chip_auth_data(cam, ec.multiply(curve, 3, ec.generator(curve)))
