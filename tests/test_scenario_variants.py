"""The scenario keys that give the policy's rarer reason codes (issue 15, the library's coverage):
document variants (no expiry, unknown birth date, a misprinted MRZ, an altered data page), the
live image (dark, blurred, a companion) and the post's rules ([post]). Fast: no bench; the library
files that run them end to end are simulator/scenarios/{documents,camera,rules}.toml (slow)."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from drivers.camera.files import read_image_file
from firmware_app.config import parse_config
from firmware_app.mrz import IssueCode, parse
from simulator.live_scenes import SCENES, LiveImage, with_companion
from simulator.portraits import BUNDLED, prepare_faces
from simulator.scenario import MrzDefect, ScenarioError, check_persons, parse_scenario
from simulator.scenario_bench import DEVICE_ID, bench_config_text
from simulator.scenario_post import PostRules
from simulator.scenario_run import mrz_lines, printed_lines

TODAY = dt.date(2026, 6, 1)


def _traveller(**keys):
    return parse_scenario({"traveller": [{"label": "t", "person": "hopper", **keys}]}).travellers[0]


def _error(document) -> str:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(document)
    return str(err.value)


@pytest.mark.parametrize("document", ["td3", "td1"])
def test_no_expiry_prints_six_fillers_with_a_filler_check_digit_and_parses(document):
    lines = mrz_lines(3, _traveller(no_expiry=True, document=document), TODAY)
    result = parse(lines, today=TODAY, repair=False)
    assert result.valid, result.errors
    assert result.expiry_date_iso is None and result.has_issue(IssueCode.EXPIRY_NOT_STATED)
    assert result.mrz_information.endswith("<<<<<<<")


def test_an_unknown_birth_date_keeps_the_year_only():
    result = parse(mrz_lines(4, _traveller(birth_date_unknown=True), TODAY), today=TODAY, repair=False)
    assert result.valid and result.birth_date == "85<<<<" and result.birth_date_iso is None
    assert result.has_issue(IssueCode.BIRTH_DATE_INCOMPLETE)


@pytest.mark.parametrize("document", ["td3", "td1"])
def test_a_misprinted_composite_is_in_the_mrz_and_on_the_chip_alike(document):
    spec = _traveller(mrz_defect="composite_check_digit", document=document)
    assert spec.mrz_defect is MrzDefect.COMPOSITE_CHECK_DIGIT
    issued = mrz_lines(5, spec, TODAY)
    assert printed_lines(spec, issued) == issued          # the chip's DG1 is built from `issued`
    result = parse(issued, today=TODAY, repair=False)
    assert not result.valid and dict(result.checks)["composite"] is False
    assert [name for name, ok in result.checks if ok is False] == ["composite"]


def test_an_altered_data_page_differs_from_the_chip_in_the_name_only():
    spec = _traveller(forgery="altered_mrz")
    issued = mrz_lines(6, spec, TODAY)
    printed = printed_lines(spec, issued)
    assert printed[1] == issued[1] and printed[0] != issued[0]
    altered, original = (parse(lines, today=TODAY, repair=False) for lines in (printed, issued))
    assert altered.valid and original.valid and altered.primary_identifier != original.primary_identifier


def test_the_nationality_is_written_into_the_mrz_and_checked():
    assert parse(mrz_lines(1, _traveller(nationality="D<<"), TODAY), today=TODAY).nationality == "D"
    for bad in ("de", "DEUT", "<DE", "D1<"):
        message = _error({"traveller": [{"label": "x", "person": "hopper", "nationality": bad}]})
        assert message.startswith("traveller 1 ('x'): nationality must be an ICAO code"), message


def test_new_choices_get_a_did_you_mean_and_the_companion_must_have_photos():
    message = _error({"traveller": [{"label": "x", "person": "hopper", "mrz_defect": "composite"}]})
    assert "mrz_defect 'composite' is not one of" in message and "did you mean 'composite_check_digit'" in message
    message = _error({"traveller": [{"label": "x", "person": "hopper", "live_image": "drak"}]})
    assert "did you mean 'dark'" in message
    scenario = parse_scenario({"traveller": [{"label": "pair", "person": "hopper", "companion": "colins"}]})
    with pytest.raises(ScenarioError) as err:
        check_persons(scenario, {"hopper", "collins"})
    assert "traveller 1 ('pair'): companion 'colins'" in str(err.value) and "did you mean 'collins'" in str(err.value)


@pytest.mark.parametrize("post, message", [
    ({"eligible_nationalitys": ["UTO"]},
     "unknown key 'eligible_nationalitys' (did you mean 'eligible_nationalities'?)"),
    ({"allow_offline": "no"}, "allow_offline must be true or false"),
    ({"pad_required": 1}, "pad_required must be true or false"),
    ({"eligible_nationalities": "UTO"}, "eligible_nationalities must be a list"),
    ({"eligible_nationalities": ["uto"]}, "'uto' is not a valid entry"),
    ({"alert_required_lists": ["s l"]}, "'s l' is not a valid entry"),
    ("strict", "[post] must be a table"),
])
def test_a_bad_post_table_is_refused_naming_the_key(post, message):
    assert message in _error({"traveller": [{"label": "x", "person": "hopper"}], "post": post})


def _broker(tmp_path: Path):
    pair = SimpleNamespace(cert=tmp_path / "c.pem", key=tmp_path / "k.pem")
    return SimpleNamespace(pki=SimpleNamespace(devices={DEVICE_ID: pair}, ca=tmp_path / "ca.pem"), device_port=8883)


def test_the_post_rules_reach_the_appliance_config(tmp_path):
    rules = PostRules(eligible_nationalities=("UTO", "D<<"), allow_offline=False, pad_required=True,
                      alert_required_lists=("sltd",))
    config = parse_config(bench_config_text(tmp_path, _broker(tmp_path), 8080, "cute", pad=False, post=rules))
    assert config.policy.eligible_nationalities == ["UTO", "D<<"] and config.policy.allow_offline is False
    assert config.face.pad.enabled and config.face.pad.required        # required switches PAD on
    assert config.bmis.alert_required_lists == ["sltd"]
    plain = parse_config(bench_config_text(tmp_path, _broker(tmp_path), 8080, "cute", pad=False))
    assert not plain.face.pad.enabled and not plain.face.pad.required and plain.policy.allow_offline
    assert plain.bmis.alert_required_lists == [] and plain.policy.eligible_nationalities == []


@pytest.fixture(scope="module")
def live_frames(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faces")
    root = prepare_faces(BUNDLED, tmp / "none", tmp / "faces", random.Random(7)).root
    return [read_image_file(sorted((root / who).glob("*"))[1]) for who in ("hopper", "collins")]


def test_the_live_scenes_fail_the_appliance_s_own_quality_gate(live_frames):
    from firmware_app.face.quality import LIVE_LIMITS, QualityIssue
    from firmware_app.face.verifier import build_verifier
    verifier = build_verifier(Path(__file__).resolve().parents[1] / "models")
    hopper, collins = live_frames
    assert verifier.inspect(hopper, LIVE_LIMITS).quality.ok            # the plain frame is usable
    wanted = {LiveImage.DARK: QualityIssue.TOO_DARK, LiveImage.BLURRED: QualityIssue.BLURRED}
    for scene, issue in wanted.items():
        assert issue in verifier.inspect(SCENES[scene](hopper), LIVE_LIMITS).quality.issues, scene
    pair = verifier.inspect(with_companion(hopper, collins), LIVE_LIMITS).quality
    assert QualityIssue.MULTIPLE_FACES in pair.issues and pair.metrics["people"] == 2


def test_a_policy_hang_fault_lasts_for_s_and_needs_it():
    travellers = [{"label": "x", "person": "hopper"}]
    scenario = parse_scenario({"traveller": travellers,
                               "fault": [{"kind": "policy_hang", "before_traveller": 1, "for_s": 8}]})
    assert scenario.faults[0].kind.value == "policy_hang" and scenario.faults[0].for_s == 8
    message = _error({"traveller": travellers, "fault": [{"kind": "policy_hang", "before_traveller": 1}]})
    assert "policy_hang needs for_s" in message
    message = _error({"traveller": travellers, "fault": [{"kind": "policy_hng", "at": 1, "for_s": 1}]})
    assert "did you mean 'policy_hang'" in message


def test_the_decision_hook_runs_first_on_the_decision_worker_and_its_failure_is_the_stage_s():
    from firmware_app.lane.wiring import hooked_decider
    calls: list[str] = []

    def decider(request):
        calls.append(f"decide {request}")
        return "decision"

    assert hooked_decider(decider, lambda: calls.append("hook"))("r1") == "decision"
    assert calls == ["hook", "decide r1"]

    def broken():
        raise TimeoutError("hung")
    with pytest.raises(TimeoutError):
        hooked_decider(decider, broken)("r2")
    assert calls == ["hook", "decide r1"]       # the policy never ran
