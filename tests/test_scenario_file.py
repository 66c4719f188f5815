"""Scenario files for `gatesim scenario`: TOML and JSON, strict keys, clear errors for bad input."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import main as gatesim
from simulator.scenario import (
    Behaviour,
    Forgery,
    PresentationAttack,
    ScenarioError,
    check_persons,
    demo_scenario,
    load_scenario,
    parse_scenario,
)

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
    ({"traveller": [{"label": "x", "person": "p", "colour": "red"}]}, "traveller 1 ('x'): unknown key 'colour'"),
    ({"traveller": [{"label": "x", "person": "p", "forgery": "paint"}]}, "forgery 'paint' is not one of"),
    ({"traveller": [{"label": "x"}]}, "person is required"),
    ({"traveller": [{"label": "x", "person": "p", "reader_faults": ["warp=9"]}]}, "reader_faults"),
    ({"traveller": []}, "at least one traveller"),
    ({"travellers": []}, "did you mean 'traveller'"),
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
    with pytest.raises(ScenarioError, match=r"presentation_attack .mask. is not one of"):
        parse_scenario({"traveller": [{"label": "a", "person": "p", "presentation_attack": "mask"}]})
    from simulator.presentation_attacks import SYNTHESISERS
    assert {a.value for a in PresentationAttack} == set(SYNTHESISERS)


def test_the_demo_without_face_photos_says_where_it_looked_and_exits_2(tmp_path, capsys):
    assert gatesim(["demo", "--faces", str(tmp_path / "no-faces")]) == 2
    assert f"face photos not found at {tmp_path / 'no-faces'}" in capsys.readouterr().err


def _error(entry: dict, number: int = 1) -> str:
    travellers = [{"label": f"t{n}", "person": "hopper"} for n in range(1, number)] + [entry]
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"traveller": travellers})
    return str(err.value)


@pytest.mark.parametrize("key", ["expired", "alert", "no_expiry", "birth_date_unknown"])
@pytest.mark.parametrize("value", ["no", "false", 0, 1, None])
def test_booleans_must_be_booleans(key, value):
    message = _error({"label": "late", "person": "hopper", key: value}, number=2)
    assert message.startswith("traveller 2 ('late'): " + key) and "true or false" in message


def test_an_expected_outcome_is_checked_with_a_suggestion():
    message = _error({"label": "x", "person": "hopper", "expect": "pased"})
    assert "expect 'pased' is not one of" in message and "did you mean 'passed'?" in message


def test_expected_reasons_are_reason_codes():
    message = _error({"label": "x", "person": "hopper", "expect_reasons": ["face_not_matchd"]})
    assert "expect_reasons" in message and "did you mean 'face_not_matched'?" in message
    assert "must be a list" in _error({"label": "x", "person": "hopper", "expect_reasons": "alert_list_hit"})


def test_an_unknown_key_gets_a_did_you_mean():
    message = _error({"label": "x", "person": "hopper", "expried": True})
    assert "unknown key 'expried' (did you mean 'expired'?)" in message
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({"travellers": []})
    assert "did you mean 'traveller'" in str(caught.value)


def test_fault_specs_must_be_a_list_of_strings():
    assert "must be a list of strings" in _error({"label": "x", "person": "hopper", "reader_faults": "noise=6"})
    assert "must be a non-empty string" in _error({"label": "x", "person": "hopper", "reader_faults": [6]})


def test_persons_must_have_photos_in_the_faces_used():
    scenario = parse_scenario({"traveller": [{"label": "a", "person": "hopper"},
                                             {"label": "b", "person": "hopper", "impostor": "colins"}]})
    check_persons(scenario, {"hopper", "colins"})
    with pytest.raises(ScenarioError) as err:
        check_persons(scenario, {"hopper", "collins"})
    assert "traveller 2 ('b'): impostor 'colins'" in str(err.value) and "did you mean 'collins'?" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        check_persons(scenario, {"colins"})
    assert "traveller 1 ('a'): person 'hopper'" in str(err.value)


def test_a_missing_person_is_refused_before_any_service_starts(tmp_path, monkeypatch, capsys):
    from simulator import scenario_cmd

    def no_bench(*args, **kwargs):
        raise AssertionError("the bench was started for an invalid scenario")
    monkeypatch.setattr(scenario_cmd, "Bench", no_bench)
    bad = tmp_path / "s.toml"
    bad.write_text('[[traveller]]\nlabel = "ghost"\nperson = "person99"\n')
    assert gatesim(["scenario", str(bad), "--faces", "bundled"]) == 2
    err = capsys.readouterr().err
    assert "traveller 1 ('ghost'): person 'person99' has no photos" in err and "hopper" in err


def test_the_help_and_the_reference_page_name_every_key_and_value(capsys):
    from pathlib import Path

    from simulator.scenario import KEYS
    with pytest.raises(SystemExit):
        gatesim(["scenario", "--help"])
    help_text = capsys.readouterr().out
    page = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    for key in KEYS:
        for text in (help_text, page):
            assert f"{key.name}" in text and all(value in text for value in key.values), key.name
    for spec in ("chunk=", "delay=", "noise=", "truncate=", "ocr=", "bcc="):
        assert spec in help_text and spec in page


def test_the_shipped_scenarios_load_and_appliance_configs_are_apart():
    from pathlib import Path

    from firmware_app.cli import main as gatectl
    root = Path(__file__).resolve().parents[1]
    shipped = sorted((root / "simulator" / "scenarios").glob("*.toml"))
    assert shipped
    for path in shipped:
        check_persons(load_scenario(path), {"hopper", "collins"})    # runs on the bundled faces alone
    for config in sorted((root / "config" / "examples").glob("*.toml")):
        assert gatectl(["config", "check", str(config)]) == 0, config


def test_the_officer_key_puts_a_traveller_in_assisted_mode_with_the_officer_s_answer():
    from simulator.scenario import OfficerAnswer, parse_scenario
    from simulator.scenario_run import _expected_officer
    specs = parse_scenario({"traveller": [{"label": a, "person": "hopper", "officer": a}
                                          for a in ("accept", "refer", "reject", "none")]
                           + [{"label": "normal", "person": "hopper"}]}).travellers
    assert [s.officer for s in specs] == [*OfficerAnswer, None]
    assert [_expected_officer(s) for s in specs] == [("officer-sim", "accept"), ("officer-sim", "refer"),
                                                     ("officer-sim", "reject"), (None, None), None]
    with pytest.raises(ScenarioError, match=r"officer 'acept' is not one of .* \(did you mean 'accept'"):
        parse_scenario({"traveller": [{"label": "x", "person": "hopper", "officer": "acept"}]})
    with pytest.raises(ScenarioError, match="officer must be a non-empty string"):
        parse_scenario({"traveller": [{"label": "x", "person": "hopper", "officer": True}]})


def test_card_access_rewrites_only_a_pace_chip_s_offer():
    from simulator.scenario import CardAccess
    spec = parse_scenario({"traveller": [{"label": "mitm", "person": "hopper", "chip": "pace",
                                          "card_access": "hidden"}]}).travellers[0]
    assert spec.card_access is CardAccess.HIDDEN
    assert parse_scenario({"traveller": [{"label": "x", "person": "hopper"}]}).travellers[0].card_access is None
    assert 'card_access needs chip = "pace"' in _error({"label": "x", "person": "hopper", "card_access": "hidden"})
    assert "no hostile document" in _error({"label": "x", "person": "hopper", "chip": "pace_cam",
                                            "card_access": "hidden", "hostile": "one_byte_reads"})
    assert "did you mean 'hidden'" in _error({"label": "x", "person": "hopper", "chip": "pace",
                                              "card_access": "hiden"})
    assert "must be a non-empty string" in _error({"label": "x", "person": "hopper", "chip": "pace",
                                                   "card_access": True})
