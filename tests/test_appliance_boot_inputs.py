"""Gate inputs before the lane runs (during Appliance.build(), before start()): an emergency active
at boot, or one that starts while the appliance is still being built, releases the doors at once
and is reported once the lane runs; a tamper active at boot (or one that came and went during the
build) puts the lane out of service and raises the alarm. The appliance drives gpiozero MockFactory
pins (no safety controller: the appliance owns the door I/O), the outbox is real SQLite."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gate import Door
from drivers.gate.sim import GateSimulator
from firmware_app.appliance.core import Appliance, Overrides
from firmware_app.bmis.wiring import open_outbox
from firmware_app.config import parse_config
from firmware_app.lane.state import Fault
from firmware_app.lane.wiring import gate_layout
from simulator.local_process import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
DOORS = (Door.ENTRY, Door.EXIT)


def _config(tmp_path: Path):
    """No broker (local outbox only), no camera source, mock pins handed in."""
    return parse_config(
        f'[device]\nid = "gate-boot"\npost_id = "post-t"\ndata_dir = "{tmp_path / "var"}"\n'
        f'[reader]\nurl = "sim://"\n[camera]\nurl = "sim://"\n[face]\nmodels_dir = "{ROOT / "models"}"\n'
        f'[gate]\npin_factory = "mock"\n[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n'
        f'[kiosk]\nport = {free_port()}\n')


class DuringBuild(Appliance):
    """The real appliance; `during_build` runs in the middle of build(), after the gate is built
    and before the lane runner exists (the window in which inputs used to be dropped)."""
    during_build = staticmethod(lambda: None)

    def _build_chip(self, vault):
        self.during_build()
        return super()._build_chip(vault)


def _records(config) -> tuple[list[str], list[str]]:
    pending = open_outbox(config).next_batch(1000)
    alarms = [json.loads(m.payload)["data"]["kind"] for m in pending if m.kind.suffix == "alarms"]
    exceptions = [json.loads(m.payload)["data"]["kind"] for m in pending if m.kind.suffix == "events/exception"]
    return alarms, exceptions


def _run(tmp_path, at_build=lambda sim: None, then=lambda sim: None, until=lambda app: True):
    """Mock pins nobody drives read as open loops (gpiozero's pull-ups): when the gate driver is built
    the emergency and tamper loops are open, as at a boot with both inputs active. `at_build` looks
    at that moment (inside build(), before the runner exists); then the simulator closes every loop
    and `then` opens the ones the case needs, still inside build()."""
    config = _config(tmp_path)
    factory = MockFactory()
    sim = GateSimulator(factory, gate_layout(config.gate))
    appliance = DuringBuild(config, overrides=Overrides(pin_factory=factory), base_dir=ROOT)
    appliance.during_build = lambda: (at_build(sim), sim.start(), then(sim))
    try:
        appliance.build()
        appliance.start()
        assert wait_until(lambda: until(appliance), 10.0)
    finally:
        appliance.stop()
        sim.stop()
    return _records(config)


def _released(sim) -> bool:
    return all(sim.released(door) for door in DOORS)


def _in_emergency(app) -> bool:
    return app.lane_state() == "emergency"


def test_emergency_active_at_boot_releases_the_doors_before_the_lane_runs_and_is_reported(tmp_path):
    def at_build(sim):
        assert _released(sim), "doors locked during an emergency before start()"
    alarms, exceptions = _run(tmp_path, at_build=at_build, then=lambda sim: sim.emergency(True), until=_in_emergency)
    assert "emergency" in alarms and "emergency" in exceptions


def test_emergency_that_starts_during_the_build_releases_the_doors_at_once(tmp_path):
    def then(sim):
        assert wait_until(lambda: not _released(sim), 2.0), "the loop closed: the doors are secured again"
        sim.emergency(True)
        assert wait_until(lambda: _released(sim), 2.0), "emergency during build() did not release the doors"
    alarms, _ = _run(tmp_path, then=then, until=_in_emergency)
    assert "emergency" in alarms


@pytest.mark.parametrize("pulse", [False, True])
def test_tamper_during_the_build_puts_the_lane_out_of_service_and_raises_the_alarm(tmp_path, pulse):
    """Opened while the appliance is being built (and left open, or closed again before start())."""
    def then(sim):
        sim.tamper(True)
        if pulse:
            sim.tamper(False)

    def reported(app) -> bool:
        data = app.runner.data
        if pulse:
            return "tamper" in _records(app.config)[0]
        return data is not None and Fault.TAMPER in data.faults and app.lane_state() == "out_of_service"
    alarms, exceptions = _run(tmp_path, then=then, until=reported)
    assert "tamper" in alarms and "tamper" in exceptions


@pytest.mark.parametrize("bench", [False, True], ids=["lab gate-app", "simulator bench"])
def test_mock_pins_are_at_rest_before_the_first_door_command(tmp_path, caplog, bench):
    """A lab gate-app (mock pins, its own resting simulator) and a simulator bench (rest_pins) boot
    with the loops closed: no emergency boot, no edges handed to the lane, the doors secured."""
    config = _config(tmp_path)
    factory = MockFactory()
    sim = GateSimulator(factory, gate_layout(config.gate))
    overrides = Overrides(pin_factory=factory, rest_pins=sim.quiet) if bench else Overrides()
    appliance = Appliance(config, overrides=overrides, base_dir=ROOT)
    caplog.set_level("DEBUG")
    try:
        appliance.build()
        appliance.start()      # out of service here (no camera photos), which keeps the doors secured
        assert wait_until(lambda: appliance.lane_state() not in (None, "emergency"), 10.0)
        doors = sim if bench else appliance.gate_simulator
        assert not any(doors.released(door) for door in DOORS)
    finally:
        appliance.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")
                and r.name.startswith("firmware_app.appliance.early_inputs")]
    assert warnings == []
    assert any("mock pins at rest; 2 edge(s)" in r.getMessage() for r in caplog.records)
    alarms, exceptions = _records(config)
    assert not [kind for kind in alarms + exceptions if "tamper" in kind or "emergency" in kind]
