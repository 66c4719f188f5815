"""`gatesim demo`: the scripted travellers through the REAL assembled appliance (pty reader, pcscd +
vpcd virtual chip, face models on the shared photos, MockFactory gate walked by the simulator,
mosquitto with TLS and the reference BMIS consumer). Skips when pcscd/vpcd, mosquitto or the
shared photos are not on the machine."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.scenario import demo_scenario
from simulator.scenario_bench import DEVICE_ID, Bench, BenchUnavailable
from simulator.scenario_cmd import collect_delivery
from simulator.scenario_run import ScenarioRunner
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)
from tests.polling import wait_until

EXPECTED = {
    "genuine passport": ("passed", ()),
    "forged: tampered data group": ("rejected", ("passive_auth_failed",)),
    "cloned chip": ("rejected", ("clone_suspected",)),
    "impostor: someone else's passport": ("referred", ("face_not_matched",)),
    "expired passport": ("rejected", ("document_expired",)),
    "alert-list hit (stolen document)": ("referred", ("alert_list_hit",)),
    "tailgater follows a genuine traveller": ("tailgating", ()),
    "emergency during the passage": ("voided", ()),
    "presentation attack: the holder's photo on a phone": ("referred", ("presentation_attack_suspected",)),
}


@pytest.fixture(scope="module")
def demo_run(pcscd_vpcd, shared_data, tmp_path_factory):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    _, port = pcscd_vpcd
    try:
        with Bench(tmp_path_factory.mktemp("demo"), shared_data / "faces", vpcd_port=port) as bench:
            outcomes = ScenarioRunner(bench).run(demo_scenario())
            status = _request_status(bench)
            assistance = _press_assistance(bench)
            override = _officer_override(bench)
            closed = _close_lane(bench)
            delivery = collect_delivery(bench, outcomes)
            override["audits"] = [m["data"] for m in bench.consumer.messages("events/exception", DEVICE_ID)
                                  if m["data"]["kind"] == "officer_override"]
            doors_released_at_end = [bench.gate.released(door) for door in bench.gate.layout.doors]
    except BenchUnavailable as exc:
        pytest.skip(f"demo bench unavailable: {exc}")
    bench_results = {"assistance_http": assistance, "override": override}
    return {o.label: o for o in outcomes}, delivery, (status, closed), doors_released_at_end, bench_results


def _request_status(bench) -> dict | None:
    correlation = bench.consumer.send_command(DEVICE_ID, "request-status", {"params": {}})
    return bench.consumer.wait_result(correlation, timeout_s=10)


def _press_assistance(bench) -> int:
    """The traveller presses "call an officer" on the kiosk page (a real HTTP POST on loopback,
    with the kiosk browser's token)."""
    import urllib.request
    kiosk = bench.appliance.kiosk
    request = urllib.request.Request(kiosk.url + "api/assistance", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", **kiosk.auth_headers()})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def _officer_override(bench) -> dict:
    """A signed override opens the exit for an officer, a second one closes it; an unsigned one is refused."""
    from drivers.gate import Door

    def command(action, door, key=bench.command_key):
        correlation = bench.consumer.send_command(
            DEVICE_ID, "override", {"params": {"action": action, "door": door}, "operator_id": "officer-2"},
            signing_key=key)
        return bench.consumer.wait_result(correlation, timeout_s=10)
    opened = command("open", "exit")
    exit_released = wait_until(lambda: bench.gate.released(Door.EXIT), 5.0)
    state_held = bench.appliance.lane_state()
    closed = command("close", "all")
    exit_secured = wait_until(lambda: not bench.gate.released(Door.EXIT), 5.0)
    back_idle = wait_until(lambda: bench.appliance.lane_state() == "idle", 5.0)
    unsigned = command("open", "entry", key=None)
    return {"opened": opened, "exit_released": exit_released, "state_held": state_held, "closed": closed,
            "exit_secured": exit_secured, "back_idle": back_idle, "unsigned": unsigned,
            "entry_released_unsigned": bench.gate.released(Door.ENTRY)}


def _close_lane(bench) -> tuple[dict | None, str]:
    """The BMIS closes the lane with a signed set-mode command; the lane itself must follow."""
    correlation = bench.consumer.send_command(DEVICE_ID, "set-mode", {"params": {"mode": "closed"},
                                                                      "operator_id": "officer-1"},
                                              signing_key=bench.command_key)
    result = bench.consumer.wait_result(correlation, timeout_s=10)
    wait_until(lambda: bench.appliance.lane_state() == "closed", 5.0)
    return result, bench.appliance.lane_state()


def test_every_traveller_ends_as_a_gate_must_handle_them(demo_run):
    outcomes = demo_run[0]
    assert set(outcomes) == set(EXPECTED)
    for label, (outcome, reasons) in EXPECTED.items():
        got = outcomes[label]
        assert got.outcome == outcome, (label, got)
        assert set(reasons) <= set(got.reasons), (label, got.reasons)
    assert outcomes["genuine passport"].reasons == ()
    assert all(o.as_expected for o in outcomes.values()), [o.differences() for o in outcomes.values()]


def test_screens_never_tell_why_a_traveller_is_referred(demo_run):
    outcomes = demo_run[0]
    assert outcomes["alert-list hit (stolen document)"].screen.split(">")[0] == "see_officer"
    assert outcomes["impostor: someone else's passport"].screen.split(">")[0] == "see_officer"
    assert outcomes["genuine passport"].screen.startswith("please_proceed")
    assert "emergency_exit" in outcomes["emergency during the passage"].screen


def test_the_bmis_receives_each_message_exactly_once(demo_run):
    outcomes, delivery = demo_run[:2]
    assert delivery.exactly_once, delivery
    assert delivery.by_kind["events/crossing"] == len(EXPECTED)
    assert sorted(delivery.crossings_per_transaction.values()) == [1] * len(EXPECTED)
    msg_ids = [o.msg_id for o in outcomes.values()]
    assert all(msg_ids) and len(set(msg_ids)) == len(msg_ids)
    assert delivery.by_kind.get("alarms", 0) >= 2          # tailgating, emergency (and the alert hit)
    assert delivery.duplicates_removed == 0 and delivery.invalid == 0


def test_the_bmis_sees_the_lane_idle_with_doors_secured_after_the_demo(demo_run):
    (status, _), doors_released = demo_run[2:4]
    assert status is not None and status["status"] == "ack", status
    assert status["result"]["lane"]["state"] == "idle" and status["result"]["lane"]["mode"] == "normal"
    assert status["result"]["alert_lists"] == {"sltd": 1}
    assert not any(doors_released)


def test_a_signed_bmis_command_closes_the_lane(demo_run):
    result, state = demo_run[2][1]
    assert result is not None and result["status"] == "ack", result
    assert state == "closed"


def test_the_kiosk_assistance_button_reaches_the_bmis_as_an_alarm(demo_run):
    delivery, bench_results = demo_run[1], demo_run[4]
    assert bench_results["assistance_http"] == 202      # accepted: queued for the lane
    assert "assistance_requested" in delivery.alarm_kinds


def test_a_presentation_attack_is_referred_with_an_alarm_to_the_officer(demo_run):
    outcomes, delivery = demo_run[:2]
    attack = outcomes["presentation attack: the holder's photo on a phone"]
    assert attack.screen.split(">")[0] == "see_officer"
    assert "presentation_attack_suspected" in delivery.alarm_kinds


def test_a_signed_officer_override_opens_and_closes_a_door_and_an_unsigned_one_is_refused(demo_run):
    got = demo_run[4]["override"]
    assert got["opened"] is not None and got["opened"]["status"] == "ack", got["opened"]
    assert got["exit_released"] and got["state_held"] == "out_of_service"
    assert got["closed"] is not None and got["closed"]["status"] == "ack", got["closed"]
    assert got["exit_secured"] and got["back_idle"]
    assert got["unsigned"] is not None and got["unsigned"]["status"] == "nack"
    assert not got["entry_released_unsigned"]
    details = [audit.get("detail", "") for audit in got["audits"]]    # the lane's audit, with the operator
    assert len(details) == 2 and all("officer-2" in d and d.startswith("done") for d in details), details
