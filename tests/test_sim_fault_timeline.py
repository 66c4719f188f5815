"""The fault timeline's scheduling on a stand-in bench (unit test of this layer only; the real
devices are played in tests/test_sim_library.py): between-traveller faults are over and the lane
idle before the traveller, `at` faults fire at their time, commands are signed and answered, and a
pcscd the bench does not own is never killed."""
from __future__ import annotations

import time

from simulator.fault_timeline import FaultTimeline
from simulator.faults import FaultKind, FaultSpec


class _Gate:
    def __init__(self, lane):
        self.lane, self.calls = lane, []

    def emergency(self, on):
        self.calls.append(("emergency", on))
        self.lane.state = "emergency" if on else "idle"

    def tamper(self, on):
        self.calls.append(("tamper", on))
        self.lane.state = "out_of_service" if on else "idle"


class _Appliance:
    state = "idle"

    def lane_state(self):
        return self.state


class _Consumer:
    def __init__(self):
        self.sent = []

    def send_command(self, device, name, body, signing_key):
        self.sent.append((name, body["params"], signing_key))
        return len(self.sent)

    def wait_result(self, correlation, timeout_s):
        return {"status": "ack"}


class _Bench:
    def __init__(self):
        self.appliance = _Appliance()
        self.gate = _Gate(self.appliance)
        self.consumer = _Consumer()
        self.command_key = "key"
        self.pcscd = self.lent_pcscd = None


def test_a_between_fault_is_over_and_watched_before_the_traveller():
    bench = _Bench()
    spec = FaultSpec(FaultKind.EMERGENCY, before_traveller=2, for_s=0.2, expect_state="emergency",
                     expect_alarm="emergency")
    timeline = FaultTimeline(bench, (spec,))
    timeline.before_traveller(1)
    assert bench.gate.calls == []
    timeline.before_traveller(2)
    assert bench.gate.calls == [("emergency", True), ("emergency", False)]
    timeline.finish()
    [result] = timeline.results(["emergency"])
    assert result.states[0] == "emergency" and result.differences() == []
    assert timeline.results([])[0].differences() == ["alarm emergency not received (got none)"]


def test_an_at_fault_fires_at_its_time():
    bench = _Bench()
    timeline = FaultTimeline(bench, (FaultSpec(FaultKind.TAMPER, at=0.3, for_s=0.1),))
    timeline.start()
    time.sleep(0.15)
    assert bench.gate.calls == []
    time.sleep(0.5)
    timeline.finish()
    assert bench.gate.calls == [("tamper", True), ("tamper", False)]


def test_commands_are_signed_and_alert_versions_are_shared():
    bench = _Bench()
    versions = iter([7, 8])
    faults = (FaultSpec(FaultKind.SET_MODE, before_traveller=1, mode="registration_only", expect_result="ack"),
              FaultSpec(FaultKind.ALERT_PUSH, before_traveller=1, document_of=1))
    timeline = FaultTimeline(bench, faults, lambda n: f"GS{n:07d}", lambda: next(versions))
    timeline.before_traveller(1)
    timeline.finish()
    (mode, params, key), (alerts, listed, _) = bench.consumer.sent
    assert (mode, params, key) == ("set-mode", {"mode": "registration_only"}, "key")
    assert alerts == "alerts-replace" and listed["version"] == 7
    assert listed["entries"][0]["number"] == "GS0000001"
    assert [r.command_result for r in timeline.results([])] == ["ack", "ack"]


def test_a_pcscd_the_bench_does_not_own_is_never_killed():
    bench = _Bench()
    timeline = FaultTimeline(bench, (FaultSpec(FaultKind.PCSCD_KILL, before_traveller=1, for_s=0.1),))
    timeline.before_traveller(1)
    timeline.finish()
    [result] = timeline.results([])
    assert "needs the bench's own pcscd" in result.differences()[0]
