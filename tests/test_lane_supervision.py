"""The runner's supervision with the real gate driver on MockFactory pins: a hung stage worker, a
stuck event loop, a gate driver that disappears and comes back, the retreat on real relays, and
kiosk inputs through the runner."""
from __future__ import annotations

import threading
import time

import pytest

from drivers.errors import DriverIOError
from drivers.gate.events import GateSnapshot
from drivers.gate.layout import Door, LayoutKind
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.kiosk.view import Screen
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.state import Fault, LaneData, State
from firmware_app.lane.supervision import Supervision, Watchdog, probe_gate, resync_events, safe_stance
from tests.lane_helpers import good_chip, mrz
from tests.lane_rig import EMERGENCY as EMERGENCY_PIN
from tests.lane_rig import (
    ENTRY_RELAY,
    EXIT_RELAY,
    EXIT_SENSOR,
    PRESENCE,
    Kiosk,
    Rig,
    rig,  # noqa: F401  (fixture)
)
from tests.polling import wait_until

QUICK = Supervision(stall_s=0.3, stage_grace_s=0.3, gate_probe_s=0.1, tick_s=0.05)


def alarm_kinds(rig: Rig) -> list:
    return [kind for kind, _, _ in rig.outbox.alarms]


def test_a_hung_chip_worker_takes_the_reader_out_of_service_until_it_returns():
    release = threading.Event()
    made = Rig(chip=lambda txn, mrz_, cancelled: (release.wait(10), good_chip())[1], supervision=QUICK)
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.outbox.crossings)           # the chip timeout referred the traveller
        assert wait_until(lambda: Fault.CHIP_READER in made.runner.data.faults)
        assert made.state() is State.OUT_OF_SERVICE and made.pin(ENTRY_RELAY).state is False
        assert any(kind is AlarmKind.DEVICE_FAULT and "chip_reader" in detail
                   for kind, _, detail in made.outbox.alarms)
        release.set()                                       # the worker finally answers, too late
        assert wait_until(lambda: made.state() is State.IDLE)
        assert [c.outcome for c in made.outbox.crossings] == ["referred"]    # its late result dropped
    finally:
        release.set()
        made.close()


class StickyKiosk(Kiosk):
    """Hangs on the first 'please proceed' screen, as a wedged display call would."""

    def __init__(self):
        super().__init__()
        self.release, self.stuck = threading.Event(), threading.Event()

    def show(self, view):
        super().show(view)
        if view.screen is Screen.PLEASE_PROCEED and not self.stuck.is_set():
            self.stuck.set()
            self.release.wait(10)


def test_a_stuck_loop_is_found_the_doors_secured_and_the_lane_recovers_afterwards():
    kiosk = StickyKiosk()
    made = Rig(kiosk=kiosk, supervision=QUICK)
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(kiosk.stuck.is_set)
        assert made.pin(ENTRY_RELAY).state is True          # PASS: the entry was released, then it hung
        assert wait_until(lambda: not made.runner.healthy())
        assert wait_until(lambda: made.pin(ENTRY_RELAY).state is False)   # nobody inside: everything locked
        assert wait_until(lambda: AlarmKind.LANE_STALLED in alarm_kinds(made))
        kiosk.release.set()
        assert wait_until(lambda: made.outbox.crossings)
        assert made.outbox.crossings[0].outcome == "voided"
        assert wait_until(lambda: made.runner.healthy() and made.state() is State.IDLE)
        assert made.pin(ENTRY_RELAY).state is False and made.pin(EXIT_RELAY).state is False
    finally:
        kiosk.release.set()
        made.close()


class FlakyGate:
    """The real driver, until its board disappears: then every command and read fails."""

    def __init__(self, gate):
        self.gate, self.gone, self.calls = gate, False, 0

    def _call(self, name, *args):
        self.calls += 1
        if self.gone:
            raise DriverIOError("relay board gone")
        return getattr(self.gate, name)(*args)

    def open_door(self, door, passage=None):
        self._call("open_door", door)

    def close_door(self, door):
        self._call("close_door", door)

    def secure_all(self):
        self._call("secure_all")

    def release_all(self):
        self._call("release_all")

    def snapshot(self):
        return self._call("snapshot")


def test_a_gate_driver_that_fails_and_comes_back_is_retried_calmly_then_resumes():
    made = Rig(gate_wrapper=FlakyGate, supervision=QUICK)
    gate = made.runner.ports.gate
    made.runner.start()
    try:
        gate.gone = True
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.state() is State.OUT_OF_SERVICE and made.outbox.crossings)
        detail = next(d for k, _, d in made.outbox.alarms if k is AlarmKind.DEVICE_FAULT)
        assert detail.startswith("gate_driver") and "fail_secure" not in detail   # fail modes not wired here
        before = gate.calls
        time.sleep(0.5)
        assert gate.calls - before <= 12        # probed every 0.1 s, not spinning on its own failures
        gate.gone = False
        assert wait_until(lambda: made.state() is State.IDLE)
        assert made.pin(ENTRY_RELAY).state is False and made.pin(EXIT_RELAY).state is False
        made.runner.submit(ev.DocumentPresented(mrz()))     # back in service without a restart
        assert wait_until(lambda: made.pin(ENTRY_RELAY).state is True)
    finally:
        gate.gone = False
        made.close()


def test_a_fault_with_the_traveller_inside_locks_the_exit_relay_and_releases_the_entry_relay(rig):
    rig.step_into_the_mantrap()
    rig.pin(EXIT_SENSOR).drive_high()
    rig.runner.submit(ev.DeviceFault(Fault.JOURNAL, "disk full"))
    assert wait_until(lambda: rig.pin(EXIT_RELAY).state is False and rig.pin(ENTRY_RELAY).state is True)
    # the alarm follows the door actions in the same lane step: it may land a moment after the relays
    assert wait_until(lambda: AlarmKind.PERSON_INSIDE in alarm_kinds(rig))
    rig.pin(PRESENCE).drive_high()                          # stepped back out through the entry
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is False)


def test_kiosk_inputs_reach_the_lane_through_the_runner(rig):
    rig.runner.on_traveller_input(TravellerInput(InputKind.ASSISTANCE))
    rig.runner.on_traveller_input(TravellerInput(InputKind.LANGUAGE, "fr"))
    assert wait_until(lambda: rig.kiosk.views and rig.kiosk.views[-1].assistance_called)
    assert alarm_kinds(rig).count(AlarmKind.ASSISTANCE_REQUESTED) == 1


# --- the pieces, with a fake clock and a recording gate --------------------------------------


class RecordingGate:
    def __init__(self, snapshot=None, fail_reads=False, fail_all=False):
        self.calls, self._snapshot, self.fail_reads, self.fail_all = [], snapshot, fail_reads, fail_all

    def snapshot(self):
        if self.fail_reads or self.fail_all:
            raise DriverIOError("no inputs")
        return self._snapshot

    def __getattr__(self, name):
        def command(*args):
            if self.fail_all:
                raise DriverIOError("no outputs")
            self.calls.append((name,) + args)
        return command


QUIET = GateSnapshot(frozenset(), 0, False, False)
INSIDE = GateSnapshot(frozenset(), 1, False, False)
EMERGENCY = GateSnapshot(frozenset(), 1, True, False)


@pytest.mark.parametrize("layout, snapshot, fail_reads, expected", [
    (LayoutKind.MANTRAP, QUIET, False, [("secure_all",)]),
    (LayoutKind.MANTRAP, INSIDE, False, [("close_door", Door.EXIT), ("open_door", Door.ENTRY)]),
    (LayoutKind.MANTRAP, EMERGENCY, False, [("release_all",)]),
    (LayoutKind.MANTRAP, None, True, [("close_door", Door.EXIT), ("open_door", Door.ENTRY)]),  # unknown: may be inside
    (LayoutKind.BARRIER, INSIDE, False, [("secure_all",)]),
    (LayoutKind.BARRIER, None, True, [("secure_all",)]),
])
def test_safe_stance_locks_the_exit_and_frees_the_entry_only_for_somebody_inside(layout, snapshot, fail_reads,
                                                                                  expected):
    gate = RecordingGate(snapshot, fail_reads)
    safe_stance(gate, layout)
    assert gate.calls == expected


def test_safe_stance_survives_a_dead_gate():
    safe_stance(RecordingGate(fail_all=True), LayoutKind.MANTRAP)       # logs, never raises


@pytest.mark.parametrize("data, expected", [
    (LaneData(), [("secure_all",)]),
    (LaneData(retreat=True), [("close_door", Door.EXIT), ("open_door", Door.ENTRY)]),
    (LaneData(emergency=True), [("release_all",)]),
])
def test_the_gate_probe_commands_what_the_lane_wants(data, expected):
    gate = RecordingGate(QUIET)
    assert probe_gate(gate, data) == QUIET and gate.calls == expected
    assert probe_gate(RecordingGate(fail_all=True), data) is None


def test_resync_catches_up_inputs_missed_while_the_driver_was_down():
    data = LaneData(sensed_open=frozenset({Door.EXIT}), faults=frozenset({Fault.TAMPER}))
    snapshot = GateSnapshot(frozenset({Door.ENTRY}), 2, True, False)
    assert resync_events(data, snapshot) == [ev.DoorOpened(Door.ENTRY), ev.DoorClosed(Door.EXIT),
                                             ev.PresenceChanged(2), ev.EmergencyOn(), ev.TamperOff()]
    assert resync_events(LaneData(), QUIET) == []


def test_watchdog_declares_a_worker_hung_once_and_restores_when_the_last_one_returns():
    now = [0.0]
    dog = Watchdog(Supervision(stage_grace_s=1.0, stall_s=2.0), lambda: now[0])
    first, second = dog.worker_started(ev.Stage.FACE, 3.0), dog.worker_started(ev.Stage.FACE, 3.0)
    now[0] = 3.9
    assert dog.check() == ([], False, False)
    now[0] = 4.1
    events, _, _ = dog.check()
    assert events == [ev.DeviceFault(Fault.CAMERA, "face stage worker hung")] * 2
    assert dog.check()[0] == []
    assert dog.worker_finished(first) == []                     # the other is still hung
    assert dog.worker_finished(second) == [ev.DeviceRestored(Fault.CAMERA)]


def test_watchdog_reports_a_stall_once_and_the_recovery_once():
    now = [0.0]
    dog = Watchdog(Supervision(stall_s=2.0), lambda: now[0])
    dog.loop_busy()
    now[0] = 2.5
    assert dog.check() == ([], True, False) and dog.stalled
    assert dog.check() == ([], False, False)
    dog.loop_idle()
    assert dog.check() == ([], False, True) and not dog.stalled


STUCK_AT_EMERGENCY_END = "emergency ended while the lane loop is stuck"


@pytest.fixture
def stuck_rig():
    """A rig whose event loop hangs inside a transaction (the kiosk never returns) and whose watchdog
    has seen the stall and secured the doors; the loop is let go at the end."""
    kiosk = StickyKiosk()
    made = Rig(kiosk=kiosk, supervision=QUICK)
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(kiosk.stuck.is_set)
        assert wait_until(lambda: AlarmKind.LANE_STALLED in alarm_kinds(made))     # stalled, doors secured
        yield made
    finally:
        kiosk.release.set()
        made.close()


def test_emergency_releases_every_door_while_the_loop_is_stuck(stuck_rig):
    made = stuck_rig
    made.pin(EMERGENCY_PIN).drive_high()                                 # then the fire alarm
    assert wait_until(lambda: made.pin(ENTRY_RELAY).state is True and made.pin(EXIT_RELAY).state is True, 2.0)


def test_when_the_emergency_ends_while_the_loop_is_stuck_the_doors_are_secured_again(stuck_rig, caplog):
    made = stuck_rig
    made.pin(EMERGENCY_PIN).drive_high()
    assert wait_until(lambda: made.pin(ENTRY_RELAY).state is True and made.pin(EXIT_RELAY).state is True, 2.0)
    made.pin(EMERGENCY_PIN).drive_low()                                  # the fire alarm ends, loop still stuck
    assert wait_until(lambda: made.pin(ENTRY_RELAY).state is False and made.pin(EXIT_RELAY).state is False, 2.0)
    assert not made.runner.healthy()
    assert STUCK_AT_EMERGENCY_END in caplog.text                         # said when it is so


def test_an_emergency_that_ends_before_the_lane_starts_is_not_called_a_stuck_loop(caplog):
    """As at a simulator bench's start: the runner is built and handed the inputs, the mock pins'
    emergency loop floats open, then the bench closes it, all before start(). Nothing is stuck."""
    made = Rig()
    try:
        made.pin(EMERGENCY_PIN).drive_high()
        assert wait_until(lambda: made.pin(ENTRY_RELAY).state is True and made.pin(EXIT_RELAY).state is True, 2.0)
        made.pin(EMERGENCY_PIN).drive_low()
        assert wait_until(lambda: made.pin(ENTRY_RELAY).state is False and made.pin(EXIT_RELAY).state is False, 2.0)
        made.runner.start()
        assert wait_until(lambda: made.runner.healthy() and made.state() is State.IDLE)
        assert STUCK_AT_EMERGENCY_END not in caplog.text
    finally:
        made.close()


def test_when_the_emergency_ends_while_the_loop_is_stuck_somebody_inside_keeps_the_way_back(stuck_rig):
    made = stuck_rig
    made.pin(EMERGENCY_PIN).drive_high()
    assert wait_until(lambda: made.pin(EXIT_RELAY).state is True, 2.0)
    made.pin(PRESENCE).drive_low()                                       # somebody inside the mantrap
    made.pin(EMERGENCY_PIN).drive_low()
    assert wait_until(lambda: made.pin(EXIT_RELAY).state is False, 2.0)
    assert made.pin(ENTRY_RELAY).state is True                           # never trapped
