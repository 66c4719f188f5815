"""Hostile inputs to passive authentication and the trust store: typed results or errors only."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.emrtd.errors import TrustStoreError
from firmware_app.emrtd.lds import parse_sod
from firmware_app.emrtd.pa import TrustStore, passive_authenticate
from firmware_app.emrtd.pa.master_list import import_master_list
from firmware_app.emrtd.pa.trust_store import parse_certificates, parse_crl
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


ML_PKI = pki()
ML_ROOT, ML_CSCA = ML_PKI.csca.certificate, ML_PKI.csca.der
ML = master_list([ML_CSCA], make_document_signer(ML_PKI.csca, "tests", NOW, serial=901, label="ml-fuzz"), NOW)


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
        report = import_master_list(mutated, TrustStore(pins=[ML_ROOT]))
    except TrustStoreError:
        return
    # accepted: the signed content is unchanged (a flipped byte sat in an unsigned field)
    assert [c.dump() for c in report.added] == [ML_CSCA]


def _der(tag: int, body: bytes) -> bytes:
    from firmware_app.emrtd.tlv import encode_tlv
    return encode_tlv(tag, body)


ML_SIGNER = make_document_signer(ML_PKI.csca, "tests", NOW, serial=902, label="ml-fuzz-signed")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(st.binary(max_size=80), max_size=4), data=st.data())
def test_signed_and_pinned_master_list_with_hostile_entries_gives_typed_errors(entries, data):
    """A pinned signer vouches for bytes it may not have checked: garbage entries inside a validly
    signed list end as MasterListError (or are imported when they decode), never as a crash."""
    from firmware_app.emrtd.lds import asn1
    from simulator.cms_builder import signed_data

    certs = [_der(0x30, blob) for blob in entries] + ([_mutate(ML_CSCA, data.draw)] if data.draw(st.booleans()) else [])
    content = _der(0x30, b"\x02\x01\x00" + _der(0x31, b"".join(certs)))
    store = TrustStore(pins=[ML_ROOT])
    try:
        report = import_master_list(signed_data(asn1.ID_CSCA_MASTER_LIST, content, ML_SIGNER, NOW), store, now=NOW)
    except TrustStoreError:
        return
    for cert in report.added:  # what was added is usable by the lookups passive authentication makes
        store.issuers_of(cert), cert.subject.native


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["bytes", "list", "pem"]), blob=st.binary(max_size=300), data=st.data())
def test_pki_import_of_hostile_files_reports_and_never_crashes(tmp_path_factory, kind, blob, data):
    from firmware_app.emrtd.pa.provision import Outcome, import_files
    content = {"bytes": blob, "list": _mutate(ML, data.draw) if kind == "list" else b"",
               "pem": b"-----BEGIN CERTIFICATE-----\n" + blob + b"\n-----END CERTIFICATE-----\n"}[kind]
    work = tmp_path_factory.mktemp("pki-fuzz")
    (work / "input").write_bytes(content)
    (report,) = import_files([work / "input"], work / "store", [], NOW)
    stored = sorted(p.name for p in (work / "store").iterdir())
    assert (report.outcome is Outcome.REFUSED) == (stored == [])
