"""BAC (9303-11 D.3) and 3DES secure messaging (D.4) replayed byte for byte."""
from __future__ import annotations

import pytest

from drivers.smartcard.scripted import ScriptedTransceiver
from firmware_app.emrtd.apdu import CommandApdu, ResponseApdu, parse_command
from firmware_app.emrtd.bac import perform_bac
from firmware_app.emrtd.cipher import Des3Suite
from firmware_app.emrtd.errors import AuthenticationError, ResponseMacError, SecureMessagingError
from firmware_app.emrtd.keys import KeyAlgorithm, KeyPurpose, MrzKey, kdf, mrz_key_from_lines
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.sm import SecureMessaging
from tests.emrtd_vectors import fixed_rng, h, load_vectors

TD3_LINE1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"


@pytest.fixture()
def bac(shared_data):
    return load_vectors(shared_data)["bac_D3"]


@pytest.fixture()
def smv(shared_data):
    return load_vectors(shared_data)["secure_messaging_D4"]


def test_mrz_information_and_keys(bac):
    key = mrz_key_from_lines([TD3_LINE1, bac["mrz_line2"]])
    assert key.information() == bac["mrz_information"].encode()
    assert key.seed() == h(bac["k_seed"])
    assert kdf(key.seed(), KeyPurpose.ENC, KeyAlgorithm.DES3) == h(bac["k_enc"])
    assert kdf(key.seed(), KeyPurpose.MAC, KeyAlgorithm.DES3) == h(bac["k_mac"])
    assert "L898902C" not in repr(key)


def _bac_script(bac) -> list[tuple[bytes, bytes]]:
    return [
        (h(bac["get_challenge_apdu"]), h(bac["rnd_ic"]) + b"\x90\x00"),
        (h(bac["external_authenticate_apdu"]), h(bac["e_ic"]) + h(bac["m_ic"]) + b"\x90\x00"),
    ]


def test_bac_replays_appendix_d3(bac):
    card = ScriptedTransceiver(_bac_script(bac))
    session = Session(card)
    key = mrz_key_from_lines([TD3_LINE1, bac["mrz_line2"]])
    result = perform_bac(session, key, fixed_rng(h(bac["rnd_ifd"]), h(bac["k_ifd"])))
    card.assert_finished()
    assert result.protocol.value == "BAC"
    assert result.sm.ssc == int(bac["ssc"], 16)
    assert result.sm._ks_enc == h(bac["ks_enc"]) and result.sm._ks_mac == h(bac["ks_mac"])


def test_bac_rejects_tampered_chip_answer(bac):
    script = _bac_script(bac)
    bad = bytearray(script[1][1])
    bad[3] ^= 1
    card = ScriptedTransceiver([script[0], (script[1][0], bytes(bad))])
    with pytest.raises(AuthenticationError, match="MAC"):
        perform_bac(Session(card), mrz_key_from_lines([TD3_LINE1, bac["mrz_line2"]]),
                    fixed_rng(h(bac["rnd_ifd"]), h(bac["k_ifd"])))


def test_bac_wrong_key_reported(bac):
    wrong = MrzKey("L898902C", "690806", "940624")  # wrong expiry
    card = ScriptedTransceiver([_bac_script(bac)[0]])
    card._script.append((_expected_ea(bac, wrong), b"\x63\x00"))
    with pytest.raises(AuthenticationError, match="refused"):
        perform_bac(Session(card), wrong, fixed_rng(h(bac["rnd_ifd"]), h(bac["k_ifd"])))


def _expected_ea(bac, key: MrzKey) -> bytes:
    suite = Des3Suite()
    k_enc = kdf(key.seed(), KeyPurpose.ENC, KeyAlgorithm.DES3)
    k_mac = kdf(key.seed(), KeyPurpose.MAC, KeyAlgorithm.DES3)
    from firmware_app.emrtd.cipher import pad
    e = suite.encrypt(k_enc, h(bac["rnd_ifd"]) + h(bac["rnd_ic"]) + h(bac["k_ifd"]))
    return CommandApdu(0, 0x82, 0, 0, e + suite.mac(k_mac, pad(e, 8)), 40).encode()


def _sm(smv) -> SecureMessaging:
    return SecureMessaging(Des3Suite(), h(smv["ks_enc"]), h(smv["ks_mac"]), int(smv["ssc_start"], 16))


def test_secure_messaging_replays_appendix_d4(smv):
    sm = _sm(smv)
    card = ScriptedTransceiver((h(x["protected_command"]), h(x["protected_response"])) for x in smv["exchanges"])
    session = Session(card)
    session.start_secure_messaging(sm)
    data = b""
    for exchange in smv["exchanges"]:
        response = session.send(parse_command(h(exchange["plain_command"])), "D.4")
        assert response.ok and response.data == h(exchange["plain_response_data"])
        data += response.data
    card.assert_finished()
    assert data == h(smv["ef_com"])
    assert all(entry.protected for entry in session.log.entries)
    assert "60145F01" not in " ".join(e.redacted() for e in session.log.entries)


def test_wrong_response_mac_ends_session(smv):
    sm = _sm(smv)
    first = smv["exchanges"][0]
    sm.wrap(parse_command(h(first["plain_command"])))
    tampered = bytearray(h(first["protected_response"]))
    tampered[-3] ^= 0x01
    with pytest.raises(ResponseMacError):
        sm.unwrap(ResponseApdu.parse(bytes(tampered)))
    assert sm.ended
    with pytest.raises(SecureMessagingError, match="ended"):
        sm.wrap(parse_command(h(first["plain_command"])))


def test_plain_error_answer_ends_session(smv):
    sm = _sm(smv)
    sm.wrap(CommandApdu(0, 0xB0, 0, 0, ne=4))
    assert sm.unwrap(ResponseApdu(b"", 0x6988)).sw == 0x6988
    assert sm.ended
