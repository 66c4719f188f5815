"""Technician and tester tools around the safety controller: `gatectl gate status --json`,
`gatesim gate input NAME on|off`, and `gatectl gate check` with explicit relay polarity."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.gate.safety.client import SafetyGate
from drivers.gate.safety.simctl import RemoteGate
from firmware_app.cli import main as gatectl
from simulator.cli import main as gatesim
from simulator.local_process import stop_process
from simulator.safety_rig import controller_config, start_controller
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'


@pytest.fixture
def controller(tmp_path):
    socket = tmp_path / "safety.sock"
    config = controller_config(tmp_path / "gate.toml", socket)
    process = start_controller(config, socket)
    yield config, socket
    stop_process(process, 5)


def _status(config: Path, capsys) -> tuple[int, dict]:
    code = gatectl(["gate", "status", "--config", str(config), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_status_and_simulated_inputs_through_the_controller(controller, capsys):
    config, socket = controller
    code, state = _status(config, capsys)
    assert code == 1 and state["stance"] == "appliance_lost" and state["simulated"]   # nobody drives the lane
    with SafetyGate(socket, lambda event: None, heartbeat_s=0.1):
        assert wait_until(lambda: _status(config, capsys)[1]["appliance"], 5.0)
        code, state = _status(config, capsys)
        assert code == 0 and state["stance"] == "none" and state["heartbeat_age_s"] < 1.0
        assert gatesim(["gate", "input", "emergency", "on", "--config", str(config)]) == 0
        outputs = json.loads(capsys.readouterr().out)
        assert outputs["released"] == ["entry", "exit"]
        code, state = _status(config, capsys)
        assert code == 1 and state["emergency"] and state["released"] == ["entry", "exit"]
        assert gatesim(["gate", "input", "emergency", "off", "--socket", str(socket)]) == 0
        capsys.readouterr()
        assert wait_until(lambda: not _status(config, capsys)[1]["released"], 5.0)
        assert gatesim(["gate", "input", "tamper", "on", "--config", str(config)]) == 0
        capsys.readouterr()
        code, state = _status(config, capsys)
        assert state["tamper"] and state["stance"] == "fault" and code == 1


def test_a_monitor_may_only_ask(controller):
    from drivers.errors import InterlockRefused
    from drivers.gate import Door
    _, socket = controller
    with (SafetyGate(socket, lambda event: None, role="monitor") as monitor,
          pytest.raises(InterlockRefused, match="monitor")):
        monitor.open_door(Door.ENTRY)
    assert RemoteGate(Path(str(socket) + ".sim")).outputs()["released"] == []


def test_only_one_appliance_at_a_time(controller):
    from drivers.errors import DriverUnavailable
    _, socket = controller
    with SafetyGate(socket, lambda event: None), pytest.raises(DriverUnavailable):
        SafetyGate(socket, lambda event: None)


def test_gate_check_refuses_while_the_controller_owns_the_pins(controller, capsys):
    config, _ = controller
    assert gatectl(["gate", "check", "--config", str(config)]) == 2
    assert "gate-safety owns the pins" in capsys.readouterr().err


def test_status_without_a_controller_is_exit_2(tmp_path, capsys):
    assert gatectl(["gate", "status", "--config", str(ROOT / "config" / "default.toml")]) == 2
    config = controller_config(tmp_path / "gate.toml", tmp_path / "absent.sock")
    assert gatectl(["gate", "status", "--config", str(config)]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_gate_check_reports_relay_polarity_and_pulses_one_door(tmp_path, capsys):
    config = tmp_path / "gate.toml"
    config.write_text(MINIMAL + '[gate]\nentry = { relay = 17, closed_sensor = 27, relay_active_high = false }\n')
    assert gatectl(["gate", "check", "--config", str(config), "--json", "--pulse", "entry", "--seconds", "0"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["relays"]["entry"] == {"pin": 17, "fail_mode": "fail_secure", "relay_active_high": False,
                                         "locked_level": "high", "released_level": "low"}
    assert report["relays"]["exit"]["relay_active_high"] is True        # mock pins: unset reads as active high
    assert report["pulse"] == {"door": "entry", "released": True, "locked_again": True}


def test_real_pins_need_an_explicit_relay_polarity(tmp_path, capsys):
    config = tmp_path / "gate.toml"
    config.write_text(MINIMAL + '[gate]\npin_factory = "lgpio"\n'
                      'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n')
    assert gatectl(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "relay_active_high" in err and "exit" in err


def test_selftest_reads_the_gate_through_the_controller_without_taking_the_appliances_place(controller):
    from drivers.errors import DriverUnavailable
    from firmware_app.appliance.selftest import check_gate
    from firmware_app.config import load_config
    config, socket = controller
    with SafetyGate(socket, lambda event: None, heartbeat_s=0.1):
        result = check_gate(load_config(config))
        assert result.status.value == "ok", result
        with pytest.raises(DriverUnavailable):      # the appliance's place is still taken by the first one
            SafetyGate(socket, lambda event: None)
