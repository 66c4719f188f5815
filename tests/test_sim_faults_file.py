"""[[fault]] tables: strict checks (naming the fault and the key), kinds not done yet refused by
name, the commands' bodies (override, pki-update), and how a fault's result is compared with what
the tester expected."""
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
    ({"kind": "power_cut", "at": 1}, "power_cut needs for_s"),
    ({"kind": "power_cut", "at": 1, "for_s": 1, "in_state": "face"}, "in_state needs before_traveller"),
    ({"kind": "power_cut", "before_traveller": 1, "for_s": 1, "in_state": "idle"}, "in_state 'idle' is not one"),
    ({"kind": "set_mode", "at": 1, "mode": "closed", "in_state": "decide"}, "in_state needs before_traveller"),
    ({"kind": "set_mode", "before_traveller": 1, "mode": "closed", "in_state": "decid"}, "did you mean 'decide'"),
    ({"kind": "alert_push", "before_traveller": 1, "document_of": 1, "in_state": "decide"},
     "in_state does not apply to alert_push"),
    ({"kind": "override", "at": 1, "action": "open"}, "override needs door"),
    ({"kind": "override", "at": 1, "action": "opne", "door": "entry"}, "did you mean 'open'"),
    ({"kind": "override", "at": 1, "action": "open", "door": "all", "expect_released": ["entry", "entry"]},
     "expect_released must be a list of distinct doors"),
    ({"kind": "override", "at": 1, "action": "open", "door": "all", "revoke": True}, "revoke does not apply"),
    ({"kind": "csca_update", "at": 1, "signature": "forged"}, "signature 'forged' is not one of"),
    ({"kind": "csca_update", "at": 1, "for_s": 2}, "for_s does not apply to csca_update"),
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


def test_every_kind_of_the_issue_is_played_now():
    assert NOT_SUPPORTED == {}
    assert {"power_cut", "override", "csca_update"} <= {k.value for k in FaultKind}


def test_the_new_kinds_load_with_their_keys():
    scenario = parse_scenario({"traveller": TRAVELLERS, "fault": [
        {"kind": "override", "action": "open", "door": "entry", "before_traveller": 1, "expect_result": "ack",
         "expect_released": ["entry"]},
        {"kind": "override", "action": "open", "door": "all", "at": 2, "signature": "unknown_key",
         "expect_result": "nack", "expect_released": []},
        {"kind": "csca_update", "before_traveller": 2, "revoke": True, "expect_result": "ack"},
        {"kind": "power_cut", "before_traveller": 2, "in_state": "chip", "for_s": 1.5},
        {"kind": "set_mode", "mode": "closed", "before_traveller": 2, "in_state": "decide", "expect_state": "decide"}]})
    opened, refused, crl, cut, close = scenario.faults
    assert (close.mode, close.in_state, close.expect_state) == ("closed", "decide", "decide")
    assert (opened.action, opened.door, opened.signature, opened.expect_released) == ("open", "entry", "valid",
                                                                                        ("entry",))
    assert refused.signature == "unknown_key" and refused.expect_released == ()
    assert crl.revoke and (cut.in_state, cut.for_s) == ("chip", 1.5)


def test_a_traveller_may_carry_a_document_of_the_new_csca():
    scenario = parse_scenario({"traveller": [{"label": "a", "person": "hopper", "csca": "new"}]})
    assert scenario.travellers[0].csca == "new"
    with pytest.raises(ScenarioError, match="did you mean 'new'"):
        parse_scenario({"traveller": [{"label": "a", "person": "hopper", "csca": "neww"}]})


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
    override = FaultResult(FaultSpec(FaultKind.OVERRIDE, at=1, action="close", door="all", expect_released=()),
                           command_result="ack", released=("entry",))
    assert override.differences() == ["doors released ['entry'], wanted []"]
    assert "UNEXPECTED" in command.line(2)


class _Consumer:
    """Records what the bench would publish (the commands' bodies are the unit under test)."""

    def __init__(self):
        self.sent = []

    def send_command(self, device_id, name, body, signing_key=None):
        self.sent.append((name, body, signing_key))
        return b"c"

    def wait_result(self, correlation, timeout_s):
        return {"status": "ack"}


def test_override_and_pki_update_bodies_and_the_untrusted_key():
    import base64
    import datetime as dt
    from types import SimpleNamespace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from simulator.fault_commands import NEW_DS_SERIAL, second_pki, send_fault_command
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    bench = SimpleNamespace(consumer=_Consumer(), command_key=Ed25519PrivateKey.generate(),
                            new_passport_pki=second_pki(now))
    send = lambda spec: send_fault_command(bench, spec, lambda n: "X", lambda: 1)  # noqa: E731
    assert send(FaultSpec(FaultKind.OVERRIDE, at=1, action="open", door="exit")) == "ack"
    assert send(FaultSpec(FaultKind.CSCA_UPDATE, at=1)) == "ack"
    assert send(FaultSpec(FaultKind.CSCA_UPDATE, at=1, revoke=True, signature="unknown_key")) == "ack"
    (o_name, o_body, o_key), (c_name, c_body, c_key), (r_name, r_body, r_key) = bench.consumer.sent
    assert (o_name, o_body["params"], o_body["operator_id"]) == ("override", {"action": "open", "door": "exit"},
                                                                 "bmis-sim")
    assert o_key is bench.command_key and c_key is bench.command_key and r_key is not bench.command_key
    (cert,) = c_body["params"]["files"]
    assert base64.b64decode(cert["data"]) == bench.new_passport_pki.csca.der and c_name == "pki-update"
    (crl,) = r_body["params"]["files"]
    assert base64.b64decode(crl["data"]) == bench.new_passport_pki.crl and crl["name"].endswith(".crl")
    assert bench.new_passport_pki.ds.serial == NEW_DS_SERIAL


def test_what_the_gate_app_process_bench_cannot_play_is_refused_before_it_starts():
    import argparse

    from simulator.scenario_cmd import _bench_for
    cut = {"kind": "power_cut", "before_traveller": 1, "for_s": 1}
    for extra in ({"traveller": [{"label": "t", "person": "hopper", "behaviour": "tailgate"}], "fault": [cut]},
                  {"traveller": TRAVELLERS, "fault": [cut, {"kind": "camera_stall", "at": 1, "for_s": 1}]},
                  {"traveller": TRAVELLERS, "fault": [cut, {"kind": "policy_hang", "at": 1, "for_s": 1}]}):
        with pytest.raises(ScenarioError, match=r"in-process bench|not with gate-app as its own process"):
            _bench_for(parse_scenario(extra), argparse.Namespace())
    bench, _, _ = _bench_for(parse_scenario({"traveller": TRAVELLERS, "fault": [cut]}), argparse.Namespace())
    assert bench.__name__ == "GateAppBench"
    bench, _, _ = _bench_for(parse_scenario({"traveller": TRAVELLERS}), argparse.Namespace(own_process=True))
    assert bench.__name__ == "GateAppBench"
    bench, _, _ = _bench_for(parse_scenario({"traveller": TRAVELLERS}), argparse.Namespace())
    assert bench.__name__ == "Bench"
