"""Scenario files for `gatesim scenario`: TOML and JSON, strict keys, clear errors for bad input."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import main as gatesim
from simulator.scenario import (Behaviour, Forgery, PresentationAttack, ScenarioError, demo_scenario, load_scenario,
                                parse_scenario)

TOML = """
[[traveller]]
label = "genuine"
person = "person01"
expect = "passed"

[[traveller]]
label = "clone with a noisy reader"
person = "person02"
forgery = "clone"
behaviour = "tailgate"
reader_faults = ["noise=6", "chunk=3-9"]
"""


def test_toml_and_json_give_the_same_scenario(tmp_path):
    toml_file = tmp_path / "s.toml"
    toml_file.write_text(TOML)
    from_toml = load_scenario(toml_file)
    json_file = tmp_path / "s.json"
    json_file.write_text(json.dumps({"traveller": [
        {"label": "genuine", "person": "person01", "expect": "passed"},
        {"label": "clone with a noisy reader", "person": "person02", "forgery": "clone", "behaviour": "tailgate",
         "reader_faults": ["noise=6", "chunk=3-9"]}]}))
    assert load_scenario(json_file) == from_toml
    second = from_toml.travellers[1]
    assert second.forgery is Forgery.CLONE and second.behaviour is Behaviour.TAILGATE
    assert second.fault_plan.noise_max == 6


@pytest.mark.parametrize("document, message", [
    ({"traveller": [{"label": "x", "person": "p", "colour": "red"}]}, "unknown key(s) colour"),
    ({"traveller": [{"label": "x", "person": "p", "forgery": "paint"}]}, "forgery must be one of"),
    ({"traveller": [{"label": "x"}]}, "person is required"),
    ({"traveller": [{"label": "x", "person": "p", "reader_faults": ["warp=9"]}]}, "reader_faults"),
    ({"traveller": []}, "at least one traveller"),
    ({"travellers": []}, "one key"),
    ({"traveller": ["not a table"]}, "must be a table"),
])
def test_bad_scenarios_are_refused_with_the_traveller_and_key(document, message):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(document)
    assert message in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12))
def test_any_document_gives_a_scenario_or_a_scenario_error(document):
    try:
        parse_scenario({"traveller": [document]})
    except ScenarioError:
        pass


def test_gatesim_scenario_refuses_an_unreadable_file_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[traveller]\nlabel =")
    assert gatesim(["scenario", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert gatesim(["scenario", str(tmp_path / "missing.json")]) == 2


def test_the_demo_scenario_covers_every_kind_of_traveller():
    travellers = demo_scenario().travellers
    assert {t.forgery for t in travellers} >= {Forgery.TAMPERED_DG, Forgery.CLONE}
    assert {t.behaviour for t in travellers} == set(Behaviour)
    assert any(t.impostor for t in travellers) and any(t.expired for t in travellers)
    assert any(t.alert for t in travellers) and all(t.expect for t in travellers)
    assert any(t.presentation_attack for t in travellers)


def test_an_attack_traveller_in_the_scenario_format():
    scenario = parse_scenario({"traveller": [{"label": "a", "person": "person09", "presentation_attack": "screen"}]})
    assert scenario.travellers[0].presentation_attack is PresentationAttack.SCREEN
    with pytest.raises(ScenarioError, match="presentation_attack must be one of"):
        parse_scenario({"traveller": [{"label": "a", "person": "p", "presentation_attack": "mask"}]})
    from simulator.presentation_attacks import SYNTHESISERS
    assert {a.value for a in PresentationAttack} == set(SYNTHESISERS)


def test_the_demo_without_face_photos_says_where_it_looked_and_exits_2(tmp_path, capsys):
    assert gatesim(["demo", "--faces", str(tmp_path / "no-faces")]) == 2
    assert f"face photos not found at {tmp_path / 'no-faces'}" in capsys.readouterr().err
