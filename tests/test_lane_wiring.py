"""Config -> gate layout, lane settings and the policy decider."""
from __future__ import annotations

from pathlib import Path

import pytest

from drivers.gate import Door, FailMode, LayoutKind
from firmware_app.config import load_config, parse_config
from firmware_app.errors import ConfigError
from firmware_app.lane.actions import RequestDecision
from firmware_app.lane.wiring import gate_layout, lane_settings, policy_decider, start_mode
from firmware_app.policy import Evidence, InMemoryAlertLists, LaneMode, Outcome, ReasonCode
from tests.lane_helpers import TODAY, good_chip, good_face, mrz

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'


def test_default_config_gives_a_mantrap_with_safe_defaults():
    config = load_config(ROOT / "config" / "default.toml")
    layout = gate_layout(config.gate)
    assert layout.kind is LayoutKind.MANTRAP and set(layout.doors) == {Door.ENTRY, Door.EXIT}
    assert all(p.fail_mode is FailMode.FAIL_SECURE for p in layout.doors.values())
    settings = lane_settings(config, "b1")
    assert settings.timeouts.held_open_s == config.lane.held_open_s and settings.device_id == "gate-sim-01"
    assert start_mode(config) is LaneMode.NORMAL


def test_barrier_config_uses_the_entry_only():
    config = parse_config(MINIMAL + '[gate]\nlayout = "barrier"\nexit = { relay = 17, closed_sensor = 3 }\n')
    assert set(gate_layout(config.gate).doors) == {Door.ENTRY}


@pytest.mark.parametrize("extra, where", [
    ('[gate]\npresence = [17]\n', "gate"),
    ('[gate]\nentry = { relay = 99, closed_sensor = 27 }\n', "gate.entry.relay"),
    ('[lane]\nchip_s = 0\n', "lane.chip_s"),
    ('[lane]\nmode = "party"\n', "lane.mode"),
    ('[policy]\neligible_nationalities = ["france"]\n', "policy.eligible_nationalities"),
])
def test_bad_gate_lane_policy_settings_are_refused_by_path(extra, where):
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + extra)
    assert any(problem.startswith(where) for problem in err.value.problems)


def test_decider_applies_the_configured_policy():
    config = parse_config(MINIMAL + '[policy]\nallow_offline = false\neligible_nationalities = ["UTO"]\n')
    decider = policy_decider(config.policy, InMemoryAlertLists(), lambda: TODAY, lambda: False, lambda: True)
    decision = decider(RequestDecision("t1", Evidence(mrz(), good_chip(), good_face()), LaneMode.NORMAL, 0))
    assert decision.outcome is Outcome.REFER and decision.reasons == (ReasonCode.BMIS_UNREACHABLE,)


def test_decider_refers_a_crossing_without_pad_when_the_config_requires_it():
    required = load_config(Path(__file__).resolve().parents[1] / "config" / "examples" / "pi-mantrap.toml")
    request = RequestDecision("t1", Evidence(mrz(), good_chip(), good_face()), LaneMode.NORMAL, 0)  # pad not_performed
    strict = policy_decider(required.policy, InMemoryAlertLists(), lambda: TODAY, lambda: True, lambda: True,
                            required.face.pad.required)
    lenient = policy_decider(required.policy, InMemoryAlertLists(), lambda: TODAY, lambda: True, lambda: True)
    assert ReasonCode.PAD_NOT_PERFORMED in strict(request).reasons and strict(request).outcome is Outcome.REFER
    assert ReasonCode.PAD_NOT_PERFORMED not in lenient(request).reasons


def test_decider_refers_everybody_while_the_clock_is_not_synchronised():
    synced = [False]
    decider = policy_decider(parse_config(MINIMAL).policy, InMemoryAlertLists(), lambda: TODAY, lambda: True,
                             lambda: synced[0])
    request = RequestDecision("t1", Evidence(mrz(), good_chip(), good_face()), LaneMode.NORMAL, 0)
    decision = decider(request)
    assert decision.outcome is Outcome.REFER and decision.reasons == (ReasonCode.CLOCK_NOT_SYNCHRONISED,)
    synced[0] = True
    assert decider(request).passed
