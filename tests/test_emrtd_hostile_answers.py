"""Hostile chip answers during access control and in DG1: typed errors, no endless loops, and
reads that complete with the failed check named."""
from __future__ import annotations

import pytest

from drivers.smartcard.scripted import ScriptedTransceiver
from firmware_app.emrtd.errors import AuthenticationError, LdsError
from firmware_app.emrtd.keys import MrzKey
from firmware_app.emrtd.lds import parse_dg1
from firmware_app.emrtd.lds.dg1 import DG1_TAG, MRZ_TAG
from firmware_app.emrtd.pace.info import parse_card_access
from firmware_app.emrtd.pace.protocol import perform_pace
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.tlv import encode_tlv
from tests.emrtd_vectors import fixed_rng, h, load_vectors


@pytest.fixture()
def g1(shared_data):
    return load_vectors(shared_data)["pace_G1_ecdh_gm_brainpoolP256r1_aes128"]


@pytest.mark.parametrize("nonce", [b"\x01" * 5, b"\x02" * 17])
def test_pace_encrypted_nonce_of_partial_blocks_is_a_typed_error(g1, nonce):
    script = [(h(x["command"]), h(x["response"])) for x in g1["apdus"][:2]]
    script[1] = (script[1][0], encode_tlv(0x7C, encode_tlv(0x80, nonce)) + b"\x90\x00")
    m = g1["mrz"]
    key = MrzKey(m["document_number"], m["birth_date"], m["expiry_date"])
    info = parse_card_access(h(g1["ef_cardaccess"]))[0]
    with pytest.raises(AuthenticationError):
        perform_pace(Session(ScriptedTransceiver(script)), key, info,
                     fixed_rng(h(g1["sk_map_ifd"]), h(g1["sk_ifd"])))


def test_dg1_mrz_ending_in_a_newline_is_refused():
    mrz = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<1\n"
    assert len(mrz) == 88
    with pytest.raises(LdsError):
        parse_dg1(encode_tlv(DG1_TAG, encode_tlv(MRZ_TAG, mrz)))


class _OddInsEmptyChip:
    """Plain chip holding one 40000-byte file; B1 answers an empty 53 object (a hostile chip)."""

    def __init__(self):
        body = bytes(40000 - 4)
        self.file = b"\x77\x82" + len(body).to_bytes(2, "big") + body
        self.odd_reads = 0

    def transmit(self, apdu: bytes) -> bytes:
        from firmware_app.emrtd.apdu import parse_command

        command = parse_command(apdu)
        if command.ins == 0xA4:
            return b"\x90\x00"
        if command.ins == 0xB0:
            offset = (command.p1 << 8) | command.p2
            return self.file[offset:offset + command.ne] + b"\x90\x00"
        self.odd_reads += 1
        if self.odd_reads > 50:
            raise AssertionError("reader keeps asking: it would never finish")
        return b"\x53\x00\x90\x00"


def test_empty_odd_ins_answer_does_not_loop_forever():
    from firmware_app.emrtd.binary import ReadLimits, read_file
    from firmware_app.emrtd.errors import ReadError

    chip = _OddInsEmptyChip()
    with pytest.raises(ReadError):
        read_file(Session(chip), 0x011D, "EF.SOD", ReadLimits(223, False), lambda fid, lost: None)
    assert chip.odd_reads <= 3


class _PlainNotFound:
    """Like many real chips: 'file not found' answered in plain, which ends secure messaging."""

    def __init__(self, inner):
        self.inner = inner

    def transmit(self, apdu: bytes) -> bytes:
        answer = self.inner.transmit(apdu)
        return b"\x6A\x82" if b"\x99\x02\x6A\x82" in answer else answer


def test_optional_file_missing_with_a_plain_answer_does_not_abort_the_read():
    import time

    from firmware_app.emrtd.files import LdsFile
    from firmware_app.emrtd.reader import DocumentReader
    from simulator.vchip.transport import InProcessTransceiver
    from tests.chip_fixtures import counter_rng, make_chip, mrz_key

    chip = make_chip(dg2_size=500)
    del chip.config.files[LdsFile.DG14.fid]  # still listed in EF.COM
    session = Session(_PlainNotFound(InProcessTransceiver(chip)))
    result = DocumentReader(session, mrz_key(), counter_rng("terminal"), time.monotonic).read()
    assert result.missing == [LdsFile.DG14]
    assert result.files[LdsFile.DG15] == chip.config.files[LdsFile.DG15.fid]
    assert result.reauthentications == 1


class _PlainOkAfter:
    """A clone's trick: answer '9000' in plain where it cannot compute a response MAC."""

    def __init__(self, inner, trigger, replace_trigger_answer: bool):
        self.inner, self.trigger, self.replace_trigger_answer = inner, trigger, replace_trigger_answer
        self.armed = False

    def transmit(self, apdu: bytes) -> bytes:
        answer = self.inner.transmit(apdu)
        if self.armed:
            self.armed = False
            return b"\x90\x00"
        if self.trigger(apdu):
            if self.replace_trigger_answer:
                return b"\x90\x00"
            self.armed = True
        return answer


def _factory_read(transport_wrapper):
    import time

    from firmware_app.emrtd.keys import mrz_key_from_lines
    from firmware_app.emrtd.reader import DocumentReader
    from simulator.passport_factory import AaKind, Forgery
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from simulator.vchip.transport import InProcessTransceiver
    from tests.chip_fixtures import counter_rng
    from tests.passport_helpers import passport

    document = passport(aa=AaKind.RSA, forgery=Forgery(clone=True))
    chip = VirtualIcaoChip(chip_config(document), counter_rng("chip"))
    session = Session(transport_wrapper(InProcessTransceiver(chip)))
    return DocumentReader(session, mrz_key_from_lines(list(document.mrz_lines)), counter_rng("terminal"),
                          time.monotonic).read()


def test_clone_answering_in_plain_under_the_new_ca_keys_fails_chip_authentication():
    from firmware_app.emrtd.chip_auth.result import ChipCheckReason

    def key_sent(apdu: bytes) -> bool:  # MSE:Set KAT (3DES CA) or GENERAL AUTHENTICATE (AES CA)
        return (apdu[1] == 0x22 and apdu[2:4] == b"\x41\xA6") or apdu[1] == 0x86

    result = _factory_read(lambda inner: _PlainOkAfter(inner, key_sent, replace_trigger_answer=False))
    assert result.chip_auth.performed and not result.chip_auth.passed
    assert result.chip_auth.reason is ChipCheckReason.SM_FAILED_WITH_NEW_KEYS


def test_plain_answer_to_internal_authenticate_fails_aa_and_the_read_completes():
    from firmware_app.emrtd.files import LdsFile

    def internal_authenticate(apdu: bytes) -> bool:
        return apdu[1] == 0x88

    result = _factory_read(lambda inner: _PlainOkAfter(inner, internal_authenticate, replace_trigger_answer=True))
    assert result.active_auth.performed and not result.active_auth.passed
    assert LdsFile.DG15 in result.files


def test_plain_answer_to_the_chip_authentication_key_fails_ca_and_the_read_completes():
    from firmware_app.emrtd.chip_auth.result import ChipCheckReason
    from firmware_app.emrtd.files import LdsFile

    def key_sent(apdu: bytes) -> bool:
        return (apdu[1] == 0x22 and apdu[2:4] == b"\x41\xA6") or apdu[1] == 0x86

    result = _factory_read(lambda inner: _PlainOkAfter(inner, key_sent, replace_trigger_answer=True))
    assert result.chip_auth.performed and not result.chip_auth.passed
    assert result.chip_auth.reason is ChipCheckReason.CHIP_REFUSED
    assert LdsFile.DG15 in result.files


def test_declared_maximum_response_beyond_extended_length_is_capped():
    # an Le above 65536 cannot be encoded: secure messaging would send it modulo 65536
    from firmware_app.emrtd.capabilities import read_capabilities

    atr_info = encode_tlv(0x7F66, encode_tlv(0x02, b"\x01\x00\x00") + encode_tlv(0x02, b"\x0F\xFF\xFF"))

    class Chip:
        def transmit(self, apdu: bytes) -> bytes:
            return atr_info + b"\x90\x00" if apdu[2] == 0x80 | 0x01 else b"\x6A\x82"

    _, limits = read_capabilities(Session(Chip()), None, None)
    assert limits.extended and limits.max_response <= 65536
