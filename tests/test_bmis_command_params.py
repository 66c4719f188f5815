"""Per-command parameter schemas (cmd.json $defs/params/{name}) against what the gate accepts:
every command the gate accepts has parameters that pass its schema, and for the simple commands
parameters that pass the schema are never refused as invalid."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.bmis.commands.model import CommandName
from firmware_app.bmis.contract import command_params_problems
from tests.bmis_command_helpers import Bmis, FakeLane, make_processor
from tests.fakes import WallClock

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DOCUMENT = {"id": "E1", "issuing_state": "UTO", "number": "L898902C3", "category": "stolen"}
PERSON = {"id": "P1", "primary": "MÜLLER", "secondary": "ANNA", "birth_date": "1970-03-XX", "category": "wanted"}
ACCEPTED = {
    CommandName.SET_MODE: [{"mode": mode} for mode in ("normal", "assisted", "registration_only", "closed")],
    CommandName.OVERRIDE: [{"action": a, "door": d} for a in ("open", "close") for d in ("entry", "exit", "all")],
    CommandName.ALERTS_REPLACE: [{"list_id": "sltd", "kind": "document", "version": 7, "entries": [DOCUMENT]},
                                 {"list_id": "wanted", "kind": "person", "version": 1, "entries": [PERSON]},
                                 {"list_id": "big", "kind": "document", "version": 2, "part": 1, "parts": 2,
                                  "entries": [DOCUMENT]}],
    CommandName.ALERTS_DELTA: [{"list_id": "sltd", "base_version": 3, "version": 4,
                                "add": [{**DOCUMENT, "id": "E2"}], "remove": ["E1"]}],
    CommandName.REQUEST_STATUS: [{}],
    # the tests' trust store takes any file; the real one checks them (tests/test_pki_bmis_update.py)
    CommandName.PKI_UPDATE: [{"files": [{"name": "DE-2026.ml", "data": "MAA="}, {"name": "ut.crl", "data": ""}]}],
    # the tests' updater records the request; the real one: tests/test_bmis_update_command.py
    CommandName.UPDATE_APPLY: [{"url": "https://updates.post12.example/border-gate_0.2.0_arm64.deb",
                                "sha256": "ab" * 32, "version": "0.2.0"}],
}


@pytest.fixture
def gate(tmp_path):
    clock, lane = WallClock(), FakeLane()
    bmis = Bmis(clock)
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    yield clock, bmis, processor, alerts
    alerts.close(), journal.close()


def send(gate, name: CommandName, params) -> dict:
    clock, bmis, processor, _ = gate
    clock.advance(timedelta(seconds=1))
    topic, payload = bmis.signed(name.value, params)
    return processor.handle(topic, payload)


def test_every_command_the_gate_accepts_has_a_parameter_schema():
    assert set(ACCEPTED) == set(CommandName)
    for name in CommandName:
        assert command_params_problems(name.value, {}) is not None


@pytest.mark.parametrize("name", list(CommandName))
def test_the_gates_accepted_parameters_pass_their_schema(gate, name):
    gate[3].replace("sltd", "document", 3, [DOCUMENT])      # the delta's base
    for params in ACCEPTED[name]:
        result = send(gate, name, params)
        assert result["status"] == "ack", (name, params, result)
        assert command_params_problems(name.value, params) == [], (name, params)


values = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**54), st.text(max_size=12),
                   st.sampled_from(["normal", "closed", "open", "close", "entry", "exit", "all", "sltd", "document",
                                    "person", "E1", "1970-03-XX"]))
entry = st.one_of(st.dictionaries(st.sampled_from(list(DOCUMENT) + list(PERSON)), values, max_size=6),
                  st.just(DOCUMENT), st.just(PERSON), values)
params = st.dictionaries(
    st.sampled_from(["mode", "action", "door", "list_id", "kind", "version", "base_version", "entries", "add",
                     "remove", "part", "parts", "extra"]),
    st.one_of(values, st.lists(entry, max_size=3), st.lists(st.text(max_size=5), max_size=3)), max_size=7)


@PROPERTY
@given(st.sampled_from(list(CommandName)), params)
def test_what_the_gate_accepts_passes_the_schema_and_the_schema_never_gets_a_simple_command_refused(
        gate, name, generated):
    result = send(gate, name, generated)
    problems = command_params_problems(name.value, generated)
    if result["status"] == "ack":
        assert problems == [], (name, generated, problems)
    if not problems and name in (CommandName.SET_MODE, CommandName.OVERRIDE, CommandName.REQUEST_STATUS):
        assert result["reason"] != "invalid_params", (name, generated, result)
