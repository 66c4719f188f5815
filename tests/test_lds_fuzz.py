"""Hostile chip data: arbitrary and mutated bytes give only typed LdsError, never a crash."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.errors import LdsError
from firmware_app.emrtd.lds import (
    decode_portrait,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg14,
    parse_dg15,
    parse_sod,
)
from passport_helpers import passport
from simulator.passport_factory import AaKind

PARSERS = {
    "EF.COM": parse_com, "DG1": parse_dg1, "DG2": parse_dg2, "DG14": parse_dg14,
    "DG15": parse_dg15, "EF.SOD": parse_sod,
}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _samples() -> dict[str, bytes]:
    files = passport(aa=AaKind.EC).files
    files["DG2"] = files["DG2"][:2000]  # keep mutation cheap; the header is what matters
    return files


SAMPLES = _samples()


def _parse(name: str, data: bytes) -> None:
    try:
        result = PARSERS[name](data)
        if name == "DG2":
            decode_portrait(result.portrait)
    except LdsError:
        pass


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(name, data):
    _parse(name, data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_mutated_valid_files(name, data):
    original = bytearray(SAMPLES[name])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(original) - 1))
        original[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    _parse(name, bytes(original[:cut]) if data.draw(st.booleans()) else bytes(original))


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_wrapped_in_right_tag(name, data):
    """Arbitrary content behind a correct outer tag and length reaches the inner parsers."""
    from firmware_app.emrtd.tlv import encode_tlv, read_header

    tag = read_header(SAMPLES[name]).tag
    _parse(name, encode_tlv(tag, data.draw(st.binary(max_size=400))))
