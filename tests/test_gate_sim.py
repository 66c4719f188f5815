"""The simulated gate on MockFactory pins drives whole passages through the real runner:
doors follow their relays, a traveller walks through, a tailgater is caught."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gate import Door, DoorPins, FailMode, GateDriver, GateLayout, LayoutKind
from drivers.gate.sim import GateSimulator
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.state import LaneSettings, LaneTimeouts, State
from firmware_app.policy import InMemoryAlertLists, PolicyContext, decide
from tests.lane_helpers import TODAY, good_chip, good_face, mrz
from tests.lane_rig import Kiosk, Outbox
from tests.polling import wait_until

LAYOUT = GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(17, 27), Door.EXIT: DoorPins(22, 23, FailMode.FAIL_SAFE)},
                    (24, 16), 25, 5)


@pytest.fixture
def bench():
    factory = MockFactory()
    holder = {}
    gate = GateDriver(LAYOUT, factory, lambda e: holder["runner"].on_gate_event(e) if "runner" in holder else None)
    sim = GateSimulator(factory, LAYOUT, swing_s=0.02)
    sim.start()
    outbox = Outbox()
    ports = LanePorts(gate, lambda t, m, c: good_chip(), lambda t, r, f, c: good_face(),
                      lambda req: decide(req.evidence, PolicyContext(today=TODAY), InMemoryAlertLists()),
                      Kiosk(), outbox, LaneJournal.in_memory())
    runner = LaneRunner(LaneSettings(timeouts=LaneTimeouts(enter_s=5, exit_s=5, held_open_s=5)), ports,
                        lambda: datetime.now(UTC))
    holder["runner"] = runner
    runner.start()
    assert wait_until(lambda: runner.data.state is State.IDLE)
    yield sim, runner, outbox
    runner.stop()
    sim.stop()
    gate.close()


def test_one_traveller_walks_through(bench):
    sim, runner, outbox = bench
    runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: sim.is_open(Door.ENTRY))
    sim.enter()
    assert wait_until(lambda: sim.is_open(Door.EXIT))
    assert not sim.is_open(Door.ENTRY)
    sim.leave()
    assert wait_until(lambda: outbox.crossings)
    assert outbox.crossings[0].outcome == "passed"      # recorded once out; the exit shuts behind them
    assert wait_until(lambda: not sim.is_open(Door.EXIT) and runner.data.closing_behind is None)
    assert runner.data.state is State.IDLE and not runner.data.sensed_open


def test_tailgater_is_caught_and_the_exit_never_opens(bench):
    sim, runner, outbox = bench
    runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: sim.is_open(Door.ENTRY))
    sim.set_inside(2)
    assert wait_until(lambda: any(kind is AlarmKind.TAILGATING for kind, _, _ in outbox.alarms))
    time.sleep(0.1)
    assert not sim.is_open(Door.EXIT) and sim.is_open(Door.ENTRY)
    sim.set_inside(0)
    assert wait_until(lambda: outbox.crossings)
    assert outbox.crossings[0].outcome == "tailgating"


def test_forced_exit_door_alarms_and_the_lane_resumes_once_it_is_shut(bench):
    sim, runner, outbox = bench
    sim.force_open(Door.EXIT)       # the simulated door closer shuts it again after a moment
    assert wait_until(lambda: any(kind is AlarmKind.DOOR_FORCED for kind, _, _ in outbox.alarms))
    assert wait_until(lambda: not sim.is_open(Door.EXIT) and runner.data.state is State.IDLE)
    assert not runner.data.faults
