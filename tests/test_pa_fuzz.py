"""Hostile inputs to passive authentication and the trust store: typed results or errors only."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from firmware_app.emrtd.lds import parse_sod
from firmware_app.emrtd.pa import TrustStore, TrustStoreError, passive_authenticate
from firmware_app.emrtd.pa.trust_store import import_master_list, parse_certificates, parse_crl
from passport_helpers import NOW, passport, pki, store_for
from simulator.cms_builder import master_list
from simulator.test_pki import KeyKind, make_document_signer

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOCUMENT = passport(KeyKind.ECDSA_EXPLICIT_UNNAMED)
STORE = store_for(DOCUMENT.pki)


def _mutate(data: bytes, draw) -> bytes:
    mutated = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        mutated[draw(st.integers(0, len(mutated) - 1))] = draw(st.integers(0, 255))
    return bytes(mutated)


@FUZZ
@given(data=st.data())
def test_mutated_sod_never_passes_or_crashes(data):
    sod = _mutate(DOCUMENT.files["EF.SOD"], data.draw)
    result = passive_authenticate(sod, DOCUMENT.data_groups, STORE, NOW)
    if result.passed:
        # a changed byte may sit in an unsigned field (e.g. the CSCA's signature over the DS
        # certificate is checked, but an unused attribute is not); what is vouched for must not change
        assert parse_sod(sod).dg_hashes == parse_sod(DOCUMENT.files["EF.SOD"]).dg_hashes


def _master_list() -> bytes:
    test_pki = pki()
    signer = make_document_signer(test_pki.csca, "tests", NOW, serial=901, label="ml-fuzz")
    return master_list([test_pki.csca.der], signer, NOW)


ML = _master_list()


@pytest.mark.parametrize("parser", [lambda d: parse_certificates(d, "fuzz"), lambda d: parse_crl(d, "fuzz"),
                                    lambda d: import_master_list(d, TrustStore())])
@FUZZ
@given(data=st.binary(max_size=300))
def test_trust_store_parsers_raise_only_typed_errors(parser, data):
    try:
        parser(data)
    except TrustStoreError:
        pass


@FUZZ
@given(data=st.data())
def test_mutated_master_list_is_refused_or_verified(data):
    mutated = _mutate(ML, data.draw)
    try:
        import_master_list(mutated, TrustStore())
    except TrustStoreError:
        pass
