"""Hostile command input: random bytes, random JSON and mutated signed commands never raise."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.bmis.commands.model import CommandName
from tests.bmis_command_helpers import ROOT, Bmis, FakeLane, make_processor
from tests.fakes import WallClock

TOPICS = st.sampled_from([f"{ROOT}/cmd/{name.value}" for name in CommandName]
                         + [f"{ROOT}/cmd/", f"{ROOT}/cmd/x/y", "", "#", f"{ROOT}/cmd-result"])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=5), max_leaves=15)
ENVELOPE_KEYS = st.sampled_from(["command_id", "issued_at", "expires_at", "operator_id", "params",
                                 "signature"])


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    clock, lane = WallClock(), FakeLane()
    bmis = Bmis(clock)
    processor, alerts, journal = make_processor(tmp_path_factory.mktemp("fuzz"), clock, bmis, lane)
    yield bmis, lane, processor
    alerts.close(), journal.close()


def _answer_is_well_formed(result: dict) -> None:
    assert result["status"] in ("ack", "nack") and isinstance(result["reason"], str)
    json.dumps(result)  # the link must be able to publish it


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=TOPICS, payload=st.binary(max_size=300))
def test_random_bytes_never_raise_nor_act(env, topic, payload):
    _, lane, processor = env
    before = len(lane.calls)
    result = processor.handle(topic, payload, None, None)
    _answer_is_well_formed(result)
    assert result["status"] == "nack" and len(lane.calls) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=TOPICS, body=st.dictionaries(st.one_of(ENVELOPE_KEYS, st.text(max_size=8)), JSON, max_size=7))
def test_random_json_objects_never_raise(env, topic, body):
    _, lane, processor = env
    before = len(lane.calls)
    result = processor.handle(topic, json.dumps(body).encode(), None, None)
    _answer_is_well_formed(result)
    if not topic.endswith("request-status"):
        assert len(lane.calls) == before  # nothing unsigned changes the lane


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255),
       name=st.sampled_from(["set-mode", "override"]))
def test_one_byte_changed_in_a_signed_command_is_never_obeyed_differently(env, position, value, name):
    bmis, lane, processor = env
    params = {"mode": "closed"} if name == "set-mode" else {"action": "open", "door": "entry"}
    topic, payload = bmis.signed(name, params)
    mutated = bytearray(payload)
    mutated[position % len(mutated)] = value
    before = len(lane.calls)
    result = processor.handle(topic, bytes(mutated), None, None)
    _answer_is_well_formed(result)
    if result["status"] == "ack":  # only a change the signature does not cover (e.g. whitespace)
        assert json.loads(mutated) == json.loads(payload)
        assert len(lane.calls) == before + 1


# What a BMIS can sign: no floats, no lone surrogates (signing refuses both on its side).
SIGNABLE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
SIGNABLE = st.recursive(st.none() | st.booleans() | st.integers() | SIGNABLE_TEXT,
                        lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(SIGNABLE_TEXT, inner, max_size=5), max_leaves=15)
PARAM_KEYS = st.sampled_from(["mode", "action", "door", "list_id", "kind", "version", "base_version",
                              "entries", "add", "remove", "part", "parts", "files"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from([n.value for n in CommandName]),
       params=st.dictionaries(PARAM_KEYS, SIGNABLE, max_size=6))
def test_signed_commands_with_random_params_never_raise(env, name, params):
    bmis, _, processor = env
    topic, payload = bmis.signed(name, params)
    result = processor.handle(topic, payload, None, None)
    _answer_is_well_formed(result)
    assert result["reason"] in ("ok", "invalid_params", "version_conflict")
