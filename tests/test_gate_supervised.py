"""Supervised presence inputs (NO + NC pair per beam): a cut or stuck sensor is a fault, never
"nobody inside". On gpiozero MockFactory pins, through the driver, the lane and the safety controller."""
from __future__ import annotations

import threading

from gpiozero.pins.mock import MockFactory

from drivers.gate import Door, DoorPins, GateDriver, GateLayout, LayoutKind
from drivers.gate.events import GateEventKind
from drivers.gate.sim import GateSimulator
from firmware_app.lane.state import Fault, State
from simulator.safety_rig import controller_config
from tests.lane_rig import ENTRY_RELAY, EXIT_RELAY, PRESENCE, Rig
from tests.polling import wait_until

NC = 26


def layout(presence_nc=(NC,)) -> GateLayout:
    return GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(17, 27), Door.EXIT: DoorPins(22, 23)}, (24,), 25,
                      presence_nc=presence_nc, presence_grace_s=0.05)


class Events(list):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def kinds(self) -> list:
        with self.lock:
            return [e.kind for e in self]

    def __call__(self, event):
        with self.lock:
            self.append(event)


def driven(presence_nc=(NC,)):
    factory, events = MockFactory(), Events()
    gate = GateDriver(layout(presence_nc), factory, events)
    sim = GateSimulator(factory, gate.layout)
    sim.quiet()
    return gate, sim, events


def test_unsupervised_a_cut_beam_reads_as_nobody_inside():
    """The defect this fixes, kept visible: with one NO contact a cut wire is an empty lane."""
    gate, sim, _ = driven(presence_nc=())
    try:
        sim.set_inside(1)
        sim.cut_presence(0)
        snapshot = gate.snapshot()
        assert snapshot.presence == 0 and not snapshot.tamper
    finally:
        gate.close()


def test_a_cut_supervised_beam_is_a_fault_and_counts_as_occupied():
    gate, sim, events = driven()
    try:
        assert not gate.snapshot().tamper and gate.snapshot().presence == 0
        sim.cut_presence(0)
        assert wait_until(lambda: GateEventKind.TAMPER_ON in events.kinds(), 2.0)
        snapshot = gate.snapshot()
        assert snapshot.tamper and snapshot.presence == 1
        sim.set_inside(0)                                   # repaired
        assert wait_until(lambda: GateEventKind.TAMPER_OFF in events.kinds(), 2.0)
        assert not gate.snapshot().tamper
    finally:
        gate.close()


def test_a_stuck_sensor_with_both_contacts_closed_is_a_fault():
    gate, sim, events = driven()
    try:
        gate_pins = sim.factory
        gate_pins.pin(24).drive_low()                       # NO closed while the NC stays closed
        assert wait_until(lambda: GateEventKind.TAMPER_ON in events.kinds(), 2.0)
    finally:
        gate.close()


def test_a_changeover_shorter_than_the_grace_time_is_no_fault():
    gate, sim, events = driven()
    try:
        for _ in range(20):
            sim.set_inside(1)
            sim.set_inside(0)
        threading.Event().wait(0.2)                         # past the grace time and its recheck
        assert GateEventKind.TAMPER_ON not in events.kinds() and not gate.snapshot().tamper
    finally:
        gate.close()


def test_the_lane_secures_and_goes_out_of_service_on_a_cut_sensor():
    made = Rig(presence_nc=(NC,))
    made.runner.start()
    try:
        assert wait_until(lambda: made.state() is State.IDLE)
        made.pin(PRESENCE).drive_high()
        made.pin(NC).drive_high()                           # the cable cut
        assert wait_until(lambda: Fault.TAMPER in made.runner.data.faults)
        assert made.state() is State.OUT_OF_SERVICE
        assert made.pin(EXIT_RELAY).state is False          # exit locked; the entry is the way back
        assert made.runner.data.presence == 1
        made.pin(NC).drive_low()                            # repaired
        assert wait_until(lambda: made.state() is State.IDLE)
        assert made.pin(ENTRY_RELAY).state is False
    finally:
        made.close()


def test_the_safety_controller_takes_its_fault_stance_on_a_cut_sensor(tmp_path):
    from drivers.gate.safety.controller import Controller
    from drivers.gate.safety.settings import load
    path = controller_config(tmp_path / "gate.toml", tmp_path / "s.sock", extra="presence_nc = [26, 20]\n")
    settings = load(path)
    factory = MockFactory()
    controller = Controller(settings, factory)
    sim = GateSimulator(factory, settings.layout)
    sim.quiet()
    try:
        controller.interlock.connect()
        controller.scan()
        assert controller.driver.released_doors() == frozenset()
        sim.cut_presence(1)
        threading.Event().wait(settings.layout.presence_grace_s + 0.1)
        notices = controller.scan()
        assert "tamper_on" in [n.kind for n in notices] and controller.interlock.stance().value == "fault"
        assert controller.driver.released_doors() == {Door.ENTRY}      # never trapped: way back open
    finally:
        controller.close()
