"""The assembled appliance: a component that cannot be built keeps the doors secured and the lane
out of service; a gate that cannot be built stops the app; SIGTERM stops it cleanly (sd_notify)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.gate import Door
from drivers.gate.sim import GateSimulator
from firmware_app.app import main as gate_app
from firmware_app.app import run as run_app
from firmware_app.appliance.core import Appliance, Overrides
from firmware_app.appliance.errors import GateUnavailable
from firmware_app.appliance.notify import Notifier
from firmware_app.config import parse_config
from firmware_app.lane.state import Fault
from firmware_app.lane.wiring import gate_layout
from simulator.local_process import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]


def config_text(tmp_path: Path, gate: str = 'pin_factory = "mock"', kiosk_port: int | None = None) -> str:
    """No broker certificate (link not configured: local outbox only) and no camera source."""
    return (f'[device]\nid = "gate-t1"\npost_id = "post-t"\ndata_dir = "{tmp_path / "var"}"\n'
            f'[reader]\nurl = "sim://"\n[camera]\nurl = "sim://"\n[face]\nmodels_dir = "{ROOT / "models"}"\n'
            f'[gate]\n{gate}\n[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n'
            f'[kiosk]\nport = {kiosk_port or free_port()}\n')


def assembled(config, **overrides) -> tuple[Appliance, GateSimulator]:
    """The appliance built on gpiozero mock pins, and a started simulator keeping those pins sane."""
    from gpiozero.pins.mock import MockFactory
    factory = MockFactory()
    appliance = Appliance(config, overrides=Overrides(pin_factory=factory, **overrides), base_dir=ROOT).build()
    gate = GateSimulator(factory, gate_layout(config.gate))
    gate.start()
    return appliance, gate


def test_missing_components_keep_the_doors_secured_and_the_lane_out_of_service(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    config = parse_config(config_text(tmp_path, kiosk_port=taken.getsockname()[1]))
    appliance, gate = assembled(config)             # sensors sane: only the faults keep the lane down
    try:
        appliance.start()
        assert wait_until(lambda: appliance.lane_state() == "out_of_service", 10.0)
        # each fault names its own device kind; a BMIS link without TLS settings is no lane fault
        assert {error.component for _, error in appliance.faults} == {"camera", "kiosk"}
        assert {kind for kind, _ in appliance.faults} == {Fault.CAMERA, Fault.KIOSK}
        assert wait_until(lambda: {Fault.CAMERA, Fault.KIOSK} <= appliance.runner.data.faults, 10.0)
        assert not any(gate.released(door) for door in (Door.ENTRY, Door.EXIT))
        health = appliance.health()
        assert health["camera"]["status"] == "failed" and health["bmis_link"]["status"] == "failed"
        assert appliance.lane_alive()
    finally:
        appliance.stop()
        gate.stop()
        taken.close()
    assert not any(gate.released(door) for door in (Door.ENTRY, Door.EXIT))
    assert not appliance.lane_alive()


def test_a_gate_that_cannot_be_built_stops_the_app_with_a_clear_message(tmp_path, capsys):
    gate = ('pin_factory = "lgpio"\n'
            'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
            'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }')
    config = parse_config(config_text(tmp_path, gate=gate))
    with pytest.raises(GateUnavailable):
        Appliance(config, base_dir=ROOT).build()
    assert run_app(config, Notifier(None), base_dir=ROOT) == 1
    assert "gate cannot be driven" in capsys.readouterr().err


def test_run_leaves_the_callers_signal_handlers_alone_and_stops_on_its_event(tmp_path, capsys):
    """Only main() installs SIGTERM/SIGINT handlers: run() inside pytest must not take them over."""
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    gate = ('pin_factory = "lgpio"\n'
            'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
            'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }')
    unbuildable = parse_config(config_text(tmp_path, gate=gate))
    assert run_app(unbuildable, Notifier(None), base_dir=ROOT) == 1
    assert {signum: signal.getsignal(signum) for signum in before} == before
    stop = threading.Event()
    stop.set()                                      # asked to stop before it starts: builds, starts, stops
    assert run_app(parse_config(config_text(tmp_path)), Notifier(None), base_dir=ROOT, stop=stop) == 0
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_an_invalid_config_exits_2_before_anything_opens(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n[gate]\npin_factory = "guess"\n')
    assert gate_app(["--config", str(bad)]) == 2
    assert "gate.pin_factory" in capsys.readouterr().err


def _notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    return sock


def _collect(sock: socket.socket, until: str, timeout_s: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and until not in seen:
        try:
            seen.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
    return seen


def test_sigterm_stops_the_app_cleanly_after_ready_and_watchdog(tmp_path):
    config = tmp_path / "gate.toml"
    config.write_text(config_text(tmp_path))
    sock = _notify_socket(tmp_path)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "200000"}
    app = subprocess.Popen([sys.executable, "-m", "firmware_app", "--config", str(config), "--log-level", "INFO"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = _collect(sock, "WATCHDOG=1", 30.0)
        assert "READY=1" in seen and "WATCHDOG=1" in seen, seen
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
        sock.close()
    assert app.returncode == 0, err.decode()[-2000:]
    text = err.decode()
    assert "signal SIGTERM: stopping" in text and "appliance stopped; doors secured" in text
    assert "Traceback" not in text


def test_a_transaction_left_open_by_a_crash_is_voided_and_kept_for_the_bmis(tmp_path):
    """Broker unreachable: the record still waits in the outbox (the system of record)."""
    from firmware_app.bmis.wiring import open_outbox
    from firmware_app.lane.journal import LaneJournal
    from simulator.bmis_pki import make_test_pki
    pki = make_test_pki(tmp_path / "pki", ["gate-t1"])
    pair = pki.devices["gate-t1"]
    text = config_text(tmp_path) + (f'[bmis]\nport = {free_port()}\nca_file = "{pki.ca}"\ncert_file = "{pair.cert}"\n'
                                    f'key_file = "{pair.key}"\nreconnect_max_s = 1.0\n')
    (tmp_path / "var").mkdir()
    crashed = LaneJournal.open(tmp_path / "var" / "lane-journal.db")
    crashed.begin("oldboot-000001", datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    config = parse_config(text)
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert not any(gate.released(door) for door in (Door.ENTRY, Door.EXIT))
    finally:
        appliance.stop()
        gate.stop()
    assert LaneJournal.open(tmp_path / "var" / "lane-journal.db").open_transactions() == []
    outbox = open_outbox(config)
    pending = outbox.next_batch(1000)
    exceptions = [m for m in pending if m.kind.suffix == "events/exception"]
    assert any(b'"transaction_voided"' in m.payload and b"oldboot-000001" in m.payload for m in exceptions)
    statuses = [json.loads(m.payload)["data"] for m in pending if m.kind.suffix == "status"]
    assert {"state": "out_of_service", "reason": "out_of_service"}.items() <= statuses[-2].items()
    assert statuses[-1]["state"] == "offline"       # the orderly stop sends the Last Will itself


def test_an_open_tamper_loop_at_start_keeps_the_lane_out_of_service(tmp_path):
    config = parse_config(config_text(tmp_path))
    appliance, gate = assembled(config)
    gate.tamper(True)
    try:
        appliance.start()
        assert wait_until(lambda: appliance.lane_state() == "out_of_service", 10.0)
        assert "tamper" in {f.value for f in appliance.runner.data.faults}
    finally:
        appliance.stop()
        gate.stop()


def test_the_retained_status_follows_the_lanes_own_state_not_its_screens(tmp_path):
    """A mode change while out of service shows no new screen; the status still follows the lane."""
    from firmware_app.policy import LaneMode
    config = parse_config(config_text(tmp_path))        # no camera source: out of service
    appliance, gate = assembled(config)

    def stored_modes() -> list[str]:
        pending = appliance.bmis.link.outbox.next_batch(1000)
        return [json.loads(m.payload)["data"].get("mode") for m in pending if m.kind.suffix == "status"]
    try:
        appliance.start()
        assert wait_until(lambda: appliance.lane_state() == "out_of_service", 10.0)
        assert wait_until(lambda: stored_modes()[-1:] == ["normal"], 10.0)
        appliance.bmis.lane_control.set_mode(LaneMode.ASSISTED, "op-1")
        assert wait_until(lambda: stored_modes()[-1:] == ["assisted"], 10.0), stored_modes()
    finally:
        appliance.stop()
        gate.stop()


def test_without_a_configured_bmis_link_every_record_is_kept_in_the_local_outbox(tmp_path):
    """No ca_file: the outbox (the system of record) is built anyway, the link never connects, an
    alarm says so, and the lane's records (here a tamper alarm) are stored locally."""
    from firmware_app.bmis.wiring import open_outbox
    config = parse_config(config_text(tmp_path))
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert appliance.bmis.link_problem and not appliance.bmis_reachable()
        gate.tamper(True)
        assert wait_until(lambda: Fault.TAMPER in appliance.runner.data.faults, 10.0)
        assert Fault.OUTBOX not in appliance.runner.data.faults and Fault.JOURNAL not in appliance.runner.data.faults
        link_health = appliance.health()["bmis_link"]
        assert link_health["detail"] == "not_configured" and "ca_file" in link_health["note"]
    finally:
        appliance.stop()
        gate.stop()
    pending = open_outbox(config).next_batch(1000)
    alarms = [json.loads(m.payload)["data"] for m in pending if m.kind.suffix == "alarms"]
    assert any(a["kind"] == "bmis_link_not_configured" and a["severity"] == "critical" for a in alarms)
    assert any(a["kind"] == "tamper" for a in alarms)
    exceptions = [json.loads(m.payload)["data"]["kind"] for m in pending if m.kind.suffix == "events/exception"]
    assert "tamper" in exceptions and "device_fault" in exceptions


def test_without_a_bmis_link_the_policy_decides_whether_travellers_may_pass(tmp_path):
    from firmware_app.lane.actions import RequestDecision
    from firmware_app.lane.wiring import policy_decider
    from firmware_app.policy import Evidence, InMemoryAlertLists, LaneMode, ReasonCode
    from tests.lane_helpers import TODAY, good_chip, good_face, mrz
    request = RequestDecision("t1", Evidence(mrz(), good_chip(), good_face()), LaneMode.NORMAL, 1)
    for allow_offline, passed in ((True, True), (False, False)):
        config = parse_config(config_text(tmp_path) + f"[policy]\nallow_offline = {str(allow_offline).lower()}\n")
        decide = policy_decider(config.policy, InMemoryAlertLists(), lambda: TODAY, bmis_reachable=lambda: False,
                                clock_synchronised=lambda: True)
        decision = decide(request)
        assert decision.passed is passed
        assert (ReasonCode.BMIS_UNREACHABLE in decision.reasons) is not passed


def test_missing_face_models_are_their_own_fault_kind_not_a_camera_fault(tmp_path):
    from gpiozero.pins.mock import MockFactory
    text = config_text(tmp_path).replace(f'models_dir = "{ROOT / "models"}"', f'models_dir = "{tmp_path / "none"}"')
    appliance = Appliance(parse_config(text), overrides=Overrides(pin_factory=MockFactory()), base_dir=ROOT).build()
    try:
        kinds = {kind: error.component for kind, error in appliance.faults}
        assert kinds[Fault.FACE_MODELS] == "face models" and kinds[Fault.CAMERA] == "camera"
    finally:
        appliance.stop()


def test_the_shipped_default_config_starts_and_runs_on_simulated_devices(tmp_path, caplog):
    """config/default.toml as shipped (only its data directory and kiosk port moved for the test)."""
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"').replace("port = 8080",
                                                                                       f"port = {free_port()}")
    config = parse_config(text)
    appliance = Appliance(config, base_dir=ROOT).build()
    try:
        appliance.start()
        assert wait_until(appliance.lane_alive, 10.0)
        assert appliance.bmis.link_problem is not None          # no broker configured: local outbox only
        assert Fault.OUTBOX not in appliance.runner.data.faults and Fault.BMIS_LINK not in appliance.runner.data.faults
    finally:
        appliance.stop()
    simulated = [r.getMessage() for r in caplog.records if "SIMULATED DEVICE" in r.getMessage()]
    assert any("gate" in m for m in simulated) and any("passport reader" in m for m in simulated)
    # the camera has no photos by default: one line at start says how to give it some
    hints = [r for r in caplog.records if 'sim_source = "dir://' in r.getMessage()]
    assert len(hints) == 1 and hints[0].levelname == "ERROR" and "camera" in hints[0].getMessage()


def test_shutdown_with_somebody_inside_locks_the_exit_and_leaves_the_entry_released(tmp_path):
    from firmware_app.bmis.wiring import open_outbox
    config = parse_config(config_text(tmp_path))
    appliance, gate = assembled(config)
    try:
        appliance.start()
        gate.set_inside(1)
        assert wait_until(lambda: appliance.runner.data.presence == 1, 10.0)
    finally:
        appliance.stop()
        released = {door: gate.released(door) for door in (Door.ENTRY, Door.EXIT)}
        gate.stop()
    assert released == {Door.ENTRY: True, Door.EXIT: False}
    pending = open_outbox(config).next_batch(1000)
    alarms = [json.loads(m.payload)["data"] for m in pending if m.kind.suffix == "alarms"]
    assert any(a["kind"] == "person_inside" and a["detail"].startswith("shutdown: entry left released")
               for a in alarms)


def test_shutdown_with_nobody_inside_locks_every_door(tmp_path):
    config = parse_config(config_text(tmp_path))
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert wait_until(appliance.lane_alive, 10.0)
    finally:
        appliance.stop()
        released = [gate.released(door) for door in (Door.ENTRY, Door.EXIT)]
        gate.stop()
    assert released == [False, False]


def test_a_chip_reader_that_disappears_takes_the_lane_out_of_service_until_it_returns(tmp_path):
    reader_there = {"yes": True}

    def card_present():
        if not reader_there["yes"]:
            raise RuntimeError("reader unplugged")
        return False
    config = parse_config(config_text(tmp_path))
    appliance, gate = assembled(config, card_presence=card_present)
    try:
        appliance.start()
        assert wait_until(appliance.lane_alive, 10.0)
        assert Fault.CHIP_READER not in appliance.runner.data.faults
        reader_there["yes"] = False
        assert wait_until(lambda: Fault.CHIP_READER in appliance.runner.data.faults, 10.0)
        assert appliance.lane_state() == "out_of_service"
        assert not any(gate.released(door) for door in (Door.ENTRY, Door.EXIT))
        reader_there["yes"] = True
        assert wait_until(lambda: Fault.CHIP_READER not in appliance.runner.data.faults, 10.0)
    finally:
        appliance.stop()
        gate.stop()
