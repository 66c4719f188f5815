"""DG7, DG11, DG12 light parsing and fuzzing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.errors import LdsError, LdsFormatError
from firmware_app.emrtd.lds.dg_optional import parse_dg7, parse_dg11, parse_dg12
from firmware_app.emrtd.tlv import encode_tlv


def _dg11() -> bytes:
    others = encode_tlv(0xA0, encode_tlv(0x02, b"\x01") + encode_tlv(0x0F, b"ANNA<MARIE"))
    body = (encode_tlv(0x5C, b"\x5f\x0e\x5f\x2b\x5f\x11") + encode_tlv(0x5F0E, b"ERIKSSON<<ANNA<MARIA")
            + encode_tlv(0x5F2B, b"19740812") + encode_tlv(0x5F11, b"Zenith, Utopia") + others)
    return encode_tlv(0x6B, body)


def test_dg11_fields_and_other_names():
    dg11 = parse_dg11(_dg11())
    assert dg11.fields == {"full_name": "ERIKSSON<<ANNA<MARIA", "full_date_of_birth": "19740812",
                           "place_of_birth": "Zenith, Utopia"}
    assert dg11.other_names == ("ANNA<MARIE",)
    assert "ERIKSSON" not in repr(dg11)


def test_dg12_and_dg7():
    dg12 = parse_dg12(encode_tlv(0x6C, encode_tlv(0x5C, b"\x5f\x19") + encode_tlv(0x5F19, "Bureau Öst".encode())))
    assert dg12.fields == {"issuing_authority": "Bureau Öst"}
    dg7 = parse_dg7(encode_tlv(0x67, encode_tlv(0x02, b"\x01") + encode_tlv(0x5F43, b"\xff\xd8\xff sig")))
    assert dg7.signature_images == (b"\xff\xd8\xff sig",)


def test_bad_text_and_counts():
    with pytest.raises(LdsFormatError, match="UTF-8"):
        parse_dg12(encode_tlv(0x6C, encode_tlv(0x5C, b"") + encode_tlv(0x5F19, b"\xff\xfe")))
    with pytest.raises(LdsFormatError, match="count"):
        parse_dg7(encode_tlv(0x67, encode_tlv(0x02, b"\x02") + encode_tlv(0x5F43, b"x")))
    with pytest.raises(LdsFormatError):
        parse_dg11(encode_tlv(0x6B, encode_tlv(0x5F0E, b"X")))  # no tag list


@pytest.mark.parametrize("parser,tag", [(parse_dg7, 0x67), (parse_dg11, 0x6B), (parse_dg12, 0x6C)])
@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_fuzz(parser, tag, data):
    for candidate in (data, encode_tlv(tag, data)):
        try:
            parser(candidate)
        except LdsError:
            pass
