"""Hostile chip keys: every DG14/DG15 domain parameter and key is bounded before any arithmetic,
and chip/active authentication run only on a DG14/DG15 the SOD vouches for.

Before the bounds, a DG14 DH key with a 30-65 KB subgroup order q made pow() run 35-72 s with the
GIL held (the whole appliance froze); an 8190-bit RSA exponent in DG15 cost 1.5 s per AA."""
from __future__ import annotations

import time

import pytest
from asn1crypto import core, keys
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.chip_auth.result import ChipCheckReason
from firmware_app.emrtd.crypto.curves import NAMED_CURVES
from firmware_app.emrtd.crypto.dh import RFC5114_1, DhGroup
from firmware_app.emrtd.errors import InvalidDomain, LdsError, LdsFormatError, LdsUnsupported
from firmware_app.emrtd.keys import mrz_key_from_lines
from firmware_app.emrtd.lds import asn1, parse_dg14, parse_dg15
from firmware_app.emrtd.lds.dg14 import DH_X942, parse_dh_public_key
from firmware_app.emrtd.lds.dg15 import encode_dg15
from firmware_app.emrtd.lds.key_bounds import MAX_DH_Q_BITS, MAX_RSA_EXPONENT_BITS
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from firmware_app.emrtd.vouch import SodVouch
from simulator.hostile import huge_q_dg14, resign
from simulator.test_pki import explicit_spki
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.passport_helpers import NOW, passport, pki

SAFETY_BOUND_S = 2.0  # generous: the unbounded maths took 35-72 s


@pytest.mark.parametrize("q_bytes", [30_000, 65_000])
def test_huge_q_dg14_is_refused_while_parsing(q_bytes):
    start = time.monotonic()
    with pytest.raises(LdsFormatError, match="subgroup order"):
        parse_dg14(huge_q_dg14(q_bytes))
    assert time.monotonic() - start < SAFETY_BOUND_S


def _dh_spki(p: int, g: int, q: int | None, y: int) -> bytes:
    domain = asn1.DhDomain({"p": p, "g": g, "third": q} if q is not None else {"p": p, "g": g})
    return asn1.GenericPublicKeyInfo({"algorithm": {"algorithm": DH_X942, "parameters": domain},
                                      "public_key": core.Integer(y).dump()}).dump()


def test_a_possible_but_oversized_q_is_unsupported_not_malformed():
    q = (1 << (MAX_DH_Q_BITS + 80)) | 1  # below p, but beyond what this build raises values to
    with pytest.raises(LdsUnsupported):
        parse_dh_public_key(_dh_spki(RFC5114_1.p, RFC5114_1.g, q, 5))


@pytest.mark.parametrize("p, g, y", [
    (RFC5114_1.p, 1, 5), (RFC5114_1.p, RFC5114_1.p - 1, 5), (RFC5114_1.p, RFC5114_1.g, RFC5114_1.p - 1),
    (RFC5114_1.p, RFC5114_1.g, 1)])
def test_generator_and_public_value_must_lie_inside_the_group(p, g, y):
    with pytest.raises(LdsFormatError):
        parse_dh_public_key(_dh_spki(p, g, RFC5114_1.q, y))


def test_dh_modulus_is_bounded_both_ways():
    with pytest.raises(LdsUnsupported):
        parse_dh_public_key(_dh_spki((1 << 8191) | 1, 2, None, 5))
    with pytest.raises(LdsUnsupported):
        parse_dh_public_key(_dh_spki((1 << 511) | 1, 2, None, 5))


def test_dh_group_refuses_out_of_range_parameters_before_any_arithmetic():
    with pytest.raises(InvalidDomain):
        DhGroup("hostile", RFC5114_1.p, RFC5114_1.g, 1 << 500_000)
    with pytest.raises(InvalidDomain):
        DhGroup("hostile", RFC5114_1.p, 1, RFC5114_1.q)


def _rsa_dg15(n: int, e: int) -> bytes:
    spki = keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                               "public_key": keys.RSAPublicKey({"modulus": n, "public_exponent": e})})
    return encode_dg15(spki.dump())


def test_huge_rsa_exponent_in_dg15_is_unsupported():
    n = (1 << 8191) | 1
    with pytest.raises(LdsUnsupported, match="exponent"):
        parse_dg15(_rsa_dg15(n, (1 << 8189) | 1))
    assert parse_dg15(_rsa_dg15((1 << 2047) | 1, (1 << MAX_RSA_EXPONENT_BITS) - 1)).algorithm == "rsa"


def test_rsa_modulus_above_the_bound_is_unsupported():
    with pytest.raises(LdsUnsupported, match="modulus"):
        parse_dg15(_rsa_dg15((1 << 16_383) | 1, 65537))


def _explicit_dg15(**changes) -> bytes:
    from dataclasses import replace
    curve = replace(NAMED_CURVES["brainpoolP256r1"], name="explicit", **changes)
    point = b"\x04" + curve.gx.to_bytes(32, "big") + curve.gy.to_bytes(32, "big")
    return encode_dg15(explicit_spki(curve, point).dump())


@pytest.mark.parametrize("changes, message", [
    ({"n": 1 << 40_000}, "order"), ({"h": 1 << 64}, "cofactor"), ({"p": (1 << 60_000) | 1}, "field")])
def test_explicit_ec_parameters_are_bounded_while_parsing(changes, message):
    start = time.monotonic()
    with pytest.raises(LdsError, match=message):
        parse_dg15(_explicit_dg15(**changes))
    assert time.monotonic() - start < SAFETY_BOUND_S


# --- chip authentication runs only on what the SOD vouches for ------------------------------

def _read(document, vouch=None):
    chip = VirtualIcaoChip(chip_config(document), counter_rng("chip"))
    reader = DocumentReader(Session(InProcessTransceiver(chip)), mrz_key_from_lines(list(document.mrz_lines)),
                            counter_rng("terminal"), time.monotonic, vouch=vouch)
    return reader.read()


def test_a_signed_huge_q_dg14_fails_chip_authentication_at_once():
    # 12 KB: under DG14's size limit (a 65 KB one is refused unread: tests/test_read_budget.py)
    document = resign(passport(), pki(), NOW, {14: huge_q_dg14(12_000)})
    start = time.monotonic()
    result = _read(document)
    assert time.monotonic() - start < 10 * SAFETY_BOUND_S
    assert result.chip_auth.performed and result.chip_auth.reason is ChipCheckReason.BAD_KEY
    assert result.timings_ms["chip_authentication"] < SAFETY_BOUND_S * 1000


def test_a_dg14_the_sod_does_not_hash_is_never_used():
    document = passport()
    document.files["DG14"] = huge_q_dg14(12_000)  # swapped in after signing
    result = _read(document)
    assert not result.chip_auth.performed
    assert result.chip_auth.reason is ChipCheckReason.NOT_VOUCHED
    assert "chip_authentication" not in result.timings_ms


def test_an_untrusted_sod_vouches_for_nothing():
    """The lane's hook (signature and DS chain): a chip's own SOD over its own keys does not count."""
    seen = []
    result = _read(passport(), SodVouch(trusted=lambda sod: seen.append(sod) or False))
    assert result.chip_auth.reason is ChipCheckReason.NOT_VOUCHED
    assert result.active_auth.reason is ChipCheckReason.NOT_VOUCHED
    assert len(seen) == 1  # one verdict per SOD, not per file


def test_a_genuine_chip_still_passes_both_checks_when_its_sod_is_trusted():
    result = _read(passport(), SodVouch(trusted=lambda sod: True))
    assert result.chip_auth.passed and result.active_auth.passed


# --- fuzz: any DH domain is refused or bounded, never slow or untyped ------------------------

_ints = st.one_of(st.integers(-5, 5), st.integers(0, 1 << 1100), st.integers(0, 1 << 5000).map(lambda v: v << 60_000))


@settings(max_examples=60, deadline=None)
@given(p=_ints, g=_ints, q=st.one_of(st.none(), _ints), y=_ints)
def test_dh_key_parser_bounds_any_domain(p, g, q, y):
    try:
        der = _dh_spki(p, g, q, y)
    except (ValueError, OverflowError):
        return  # asn1crypto cannot even encode it
    start = time.monotonic()
    try:
        key = parse_dh_public_key(der)
    except LdsError:
        return
    finally:
        assert time.monotonic() - start < SAFETY_BOUND_S
    assert key.p.bit_length() <= 4096 and 1 < key.g < key.p - 1 and 1 < key.y < key.p - 1
    assert key.q is None or (1 < key.q < key.p and key.q.bit_length() <= MAX_DH_Q_BITS)


def test_the_lane_runs_chip_checks_only_for_a_trusted_signer():
    import threading

    from firmware_app.lane.stages import ChipReadStage, PortraitVault
    from firmware_app.mrz import parse
    from tests.passport_helpers import TD3, store_for

    def stage(document, trusted_pki):
        def opener():
            return InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip")))
        return ChipReadStage(opener, store_for(trusted_pki), counter_rng("terminal"), time.monotonic,
                             lambda: NOW, PortraitVault())

    printed = parse(TD3, today=NOW.date())
    genuine = stage(passport(), pki())("t1", printed, threading.Event())
    assert genuine.chip_auth.passed and genuine.active_auth.passed
    foreign = stage(passport(), pki(seed="another state"))("t2", printed, threading.Event())
    assert foreign.chip_auth.reason is ChipCheckReason.NOT_VOUCHED and not foreign.passive.passed
