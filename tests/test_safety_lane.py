"""The real lane runner driving the doors through the safety controller (its own process, simulated
pins): a traveller walks through with no command refused, a tailgater keeps the exit shut, an
emergency releases everything (its release made off the client's event thread, so later events are
not held), and a controller restart is a gate fault the lane recovers from."""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.errors import DriverError, DriverTimeout
from drivers.gate import Door
from drivers.gate.events import GateEventKind
from drivers.gate.safety import client as safety_client
from drivers.gate.safety.client import SafetyGate
from drivers.gate.safety.simctl import RemoteGate
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.state import Fault, LaneSettings, LaneTimeouts, State
from firmware_app.lane.supervision import Supervision
from firmware_app.policy import InMemoryAlertLists, PolicyContext, decide
from simulator.local_process import stop_process
from simulator.safety_rig import controller_config, start_controller
from tests.lane_helpers import TODAY, good_chip, good_face, mrz
from tests.lane_rig import Kiosk, Outbox
from tests.polling import wait_until


@pytest.fixture
def lane(tmp_path):
    socket = tmp_path / "safety.sock"
    config = controller_config(tmp_path / "gate.toml", socket)
    holder: dict = {"controller": start_controller(config, socket), "delivered": []}

    def deliver(event):     # on the client's event thread; when each event reached the lane is kept
        holder["delivered"].append((event.kind, time.monotonic()))
        if "runner" in holder:
            holder["runner"].on_gate_event(event)
    gate = SafetyGate(socket, deliver, heartbeat_s=0.1)
    outbox = Outbox()
    ports = LanePorts(gate, lambda t, m, c: good_chip(), lambda t, r, f, c: good_face(),
                      lambda req: decide(req.evidence, PolicyContext(today=TODAY), InMemoryAlertLists()),
                      Kiosk(), outbox, LaneJournal.in_memory())
    runner = LaneRunner(LaneSettings(timeouts=LaneTimeouts(enter_s=5, exit_s=5, held_open_s=5)), ports,
                        lambda: datetime.now(UTC), supervision=Supervision(gate_probe_s=0.3, tick_s=0.05))
    holder["runner"] = runner
    runner.start()
    assert wait_until(lambda: runner.data.state is State.IDLE)
    sim = RemoteGate(Path(str(socket) + ".sim"))
    yield sim, runner, outbox, (config, socket, holder)
    runner.stop()
    gate.close()
    sim.close()
    stop_process(holder["controller"], 5)


def test_one_traveller_walks_through_the_controller_without_a_refusal(lane):
    sim, runner, outbox, _ = lane
    runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: sim.is_open(Door.ENTRY))
    sim.set_inside(1)
    assert wait_until(lambda: sim.is_open(Door.EXIT))
    assert not sim.is_open(Door.ENTRY)
    sim.set_inside(0)
    assert wait_until(lambda: outbox.crossings)
    assert outbox.crossings[0].outcome == "passed" and not runner.data.faults
    assert wait_until(lambda: not sim.is_open(Door.EXIT))


def test_a_tailgater_keeps_the_exit_shut_and_the_emergency_releases_everything(lane):
    sim, runner, outbox, _ = lane
    runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: sim.is_open(Door.ENTRY))
    sim.set_inside(2)
    assert wait_until(lambda: any(kind is AlarmKind.TAILGATING for kind, _, _ in outbox.alarms))
    time.sleep(0.1)
    assert not sim.released(Door.EXIT) and sim.released(Door.ENTRY)
    sim.set_inside(0)
    assert wait_until(lambda: outbox.crossings)
    sim.emergency(True)
    assert wait_until(lambda: runner.data.state is State.EMERGENCY)
    assert sim.outputs()["released"] == ["entry", "exit"]
    sim.emergency(False)
    assert wait_until(lambda: runner.data.state is State.IDLE and not sim.outputs()["released"])
    assert Fault.GATE_DRIVER not in runner.data.faults     # no command of the lane was refused


def _first(delivered, kind) -> float | None:
    return next((at for seen, at in delivered if seen is kind), None)


def test_the_emergency_release_leaves_the_clients_event_thread_free(lane, monkeypatch, caplog):
    """The runner hears the emergency on the client's reader thread, the only one that reads answers:
    a release asked there waited the whole answer timeout, failed, and held the tamper behind it."""
    sim, runner, outbox, (_, _, holder) = lane
    gate = runner.ports.gate
    monkeypatch.setattr(safety_client, "ANSWER_S", 5.0)     # a release on the reader would hold it 5 s
    releases: list[tuple[str, bool]] = []

    def release_all():
        try:
            SafetyGate.release_all(gate)
            releases.append((threading.current_thread().name, True))
        except DriverError:
            releases.append((threading.current_thread().name, False))
            raise
    monkeypatch.setattr(gate, "release_all", release_all)
    caplog.set_level(logging.ERROR)
    sim.emergency(True)
    sim.tamper(True)                                       # the next event, right behind it
    delivered = holder["delivered"]
    assert wait_until(lambda: _first(delivered, GateEventKind.TAMPER_ON) is not None)
    held = _first(delivered, GateEventKind.TAMPER_ON) - _first(delivered, GateEventKind.EMERGENCY_ON)
    assert held < 2.5, f"the tamper waited {held:.1f} s behind the emergency"    # a safety bound, not a target
    assert wait_until(lambda: sim.outputs()["released"] == ["entry", "exit"] and runner.data.state is State.EMERGENCY)
    assert wait_until(lambda: ("lane-emergency", True) in releases)      # the runner's own release, answered
    assert all(ok for _, ok in releases) and "safety-link" not in {name for name, _ in releases}
    assert "emergency release failed" not in caplog.text and Fault.GATE_DRIVER not in runner.data.faults
    sim.tamper(False)
    sim.emergency(False)
    assert wait_until(lambda: runner.data.state is State.IDLE and not sim.outputs()["released"])


def test_a_command_asked_on_the_clients_event_thread_fails_at_once(lane, monkeypatch):
    """Any other callback that asks the controller from the reader thread: refused at once, loudly."""
    sim, runner, outbox, (_, _, holder) = lane
    monkeypatch.setattr(safety_client, "ANSWER_S", 5.0)
    gate, asked = runner.ports.gate, []

    def ask_on_the_event_thread(event):
        started = time.monotonic()
        try:
            gate.status()
        except DriverTimeout:
            asked.append(time.monotonic() - started)
    holder["runner"] = type("Asker", (), {"on_gate_event": staticmethod(ask_on_the_event_thread)})()
    sim.tamper(True)
    assert wait_until(lambda: asked)
    assert asked[0] < 1.0                                   # not the 5 s answer timeout
    holder["runner"] = runner
    sim.tamper(False)


def test_a_controller_restart_is_a_gate_fault_the_lane_recovers_from(lane):
    sim, runner, outbox, (config, socket, holder) = lane
    sim.close()
    stop_process(holder["controller"], 5)
    assert wait_until(lambda: Fault.GATE_DRIVER in runner.data.faults)
    holder["controller"] = start_controller(config, socket)
    assert wait_until(lambda: Fault.GATE_DRIVER not in runner.data.faults, 10)
    assert runner.data.state is State.IDLE


def test_unreadable_inputs_are_a_fault_stance_that_never_traps_anybody(tmp_path):
    """In-process controller on MockFactory pins: a presence input that cannot be read any more."""
    from gpiozero.pins.mock import MockFactory

    from drivers.gate.safety.controller import Controller
    from drivers.gate.safety.settings import load
    from drivers.gate.sim import GateSimulator
    settings = load(controller_config(tmp_path / "gate.toml", tmp_path / "s.sock"))
    factory = MockFactory()
    controller = Controller(settings, factory)
    GateSimulator(factory, settings.layout).quiet()     # after the inputs exist: their pull-ups reset the pins
    try:
        controller.interlock.connect()
        controller.scan()
        assert controller.driver.released_doors() == frozenset()
        controller.driver._presence[0].close()          # the input is gone (a broken pin, a dead expander)
        notices = controller.scan()
        assert "tamper_on" in [n.kind for n in notices] and controller.interlock.stance().value == "fault"
        assert controller.driver.released_doors() == {Door.ENTRY}
    finally:
        controller.close()
