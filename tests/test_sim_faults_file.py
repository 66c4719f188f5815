"""[[fault]] tables: strict checks (naming the fault and the key), kinds not done yet refused by
name, and how a fault's result is compared with what the tester expected."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.fault_timeline import FaultResult
from simulator.faults import NOT_SUPPORTED, FaultKind, FaultSpec, FaultSpecError, faults_from
from simulator.scenario import ScenarioError, parse_scenario

TRAVELLERS = [{"label": "a", "person": "hopper"}, {"label": "b", "person": "collins"}]


def test_a_fault_timeline_loads_with_the_scenario():
    scenario = parse_scenario({"traveller": TRAVELLERS, "fault": [
        {"kind": "reader_unplug", "before_traveller": 2, "for_s": 2, "expect_state": "out_of_service",
         "expect_alarm": "device_fault"},
        {"kind": "set_mode", "mode": "closed", "at": 3.5, "expect_result": "ack"},
        {"kind": "clock_step", "before_traveller": 1, "for_s": 5, "step_s": -86400, "ntp_lost": True}]})
    unplug, mode, clock = scenario.faults
    assert unplug == FaultSpec(FaultKind.READER_UNPLUG, before_traveller=2, for_s=2.0,
                               expect_state="out_of_service", expect_alarm="device_fault")
    assert (mode.kind, mode.at, mode.mode) == (FaultKind.SET_MODE, 3.5, "closed")
    assert clock.step_s == -86400 and clock.ntp_lost


@pytest.mark.parametrize("fault, message", [
    ({"kind": "power_cut", "at": 1}, "kind 'power_cut' is not supported yet"),
    ({"kind": "csca_update", "at": 1}, "not supported yet"),
    ({"kind": "reader_unplugg", "at": 1, "for_s": 1}, "did you mean 'reader_unplug'"),
    ({"kind": "tamper", "for_s": 1}, "exactly one of 'at'"),
    ({"kind": "tamper", "for_s": 1, "at": 1, "before_traveller": 1}, "exactly one of 'at'"),
    ({"kind": "tamper", "at": 1}, "tamper needs for_s"),
    ({"kind": "set_mode", "at": 1}, "set_mode needs mode"),
    ({"kind": "set_mode", "at": 1, "mode": "asisted"}, "did you mean 'assisted'"),
    ({"kind": "tamper", "at": 1, "for_s": 1, "mode": "closed"}, "mode does not apply to tamper"),
    ({"kind": "alert_push", "at": 1, "document_of": 3}, "document_of 3, but there are 2"),
    ({"kind": "tamper", "before_traveller": 3, "for_s": 1}, "before_traveller 3, but there are 2"),
    ({"kind": "tamper", "at": 1, "for_s": 1, "expect_state": "broken"}, "expect_state 'broken' is not one of"),
    ({"kind": "tamper", "at": 1, "for_s": "1"}, "for_s must be a number"),
    ({"kind": "tamper", "at": 1, "for_s": 500}, "for_s must be a number from 0 to 120"),
    ({"kind": "clock_step", "at": 1, "for_s": 1, "ntp_lost": "yes"}, "ntp_lost must be true or false"),
    ({"kind": "tamper", "at": 1, "for_s": 1, "lasting": 2}, "unknown key 'lasting'"),
])
def test_bad_faults_are_refused_with_the_fault_and_key(fault, message):
    with pytest.raises(ScenarioError, match=message) as err:
        parse_scenario({"traveller": TRAVELLERS, "fault": [{"label": "f", **fault}]})
    assert "fault 1 ('f')" in str(err.value)


def test_every_kind_not_done_is_named():
    assert set(NOT_SUPPORTED) == {"power_cut", "override", "csca_update"}
    assert not set(NOT_SUPPORTED) & {k.value for k in FaultKind}


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["kind", "at", "for_s", "mode", "before_traveller", "x"]), inner, max_size=4),
                    max_leaves=8))
def test_any_fault_list_gives_faults_or_a_fault_error(document):
    try:
        faults_from(document if isinstance(document, list) else [document], 2)
    except FaultSpecError:
        pass


def test_a_fault_result_names_each_difference():
    spec = FaultSpec(FaultKind.TAMPER, before_traveller=1, for_s=1, expect_state="out_of_service",
                     expect_alarm="tamper")
    seen = FaultResult(spec, states=["idle", "out_of_service", "idle"], alarms=["tamper"])
    assert seen.differences() == [] and seen.line(1).endswith("  ok")
    missed = FaultResult(spec, states=["idle"], alarms=[])
    assert missed.differences() == ["lane state out_of_service not seen (saw idle)",
                                    "alarm tamper not received (got none)"]
    command = FaultResult(FaultSpec(FaultKind.SET_MODE, at=1, mode="closed", expect_result="ack"),
                          command_result="nack")
    assert command.differences() == ["command answered nack, wanted ack"]
    assert "UNEXPECTED" in command.line(2)
