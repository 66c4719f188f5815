"""The runner's supervision with the real gate driver on MockFactory pins: a hung stage worker, a
stuck event loop, a gate driver that disappears and comes back, the retreat on real relays, and
kiosk inputs through the runner."""
from __future__ import annotations

import threading
import time

from drivers.errors import DriverIOError
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.kiosk.view import Screen
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.state import Fault, State
from firmware_app.lane.supervision import Supervision
from tests.lane_helpers import good_chip, mrz
from tests.test_lane_runner import rig  # noqa: F401  (fixture)
from tests.test_lane_runner import (ENTRY_RELAY, ENTRY_SENSOR, EXIT_RELAY, EXIT_SENSOR, PRESENCE, Kiosk, Rig,
                                    wait_until)

QUICK = Supervision(stall_s=0.3, stage_grace_s=0.3, gate_probe_s=0.1, tick_s=0.05)


def alarm_kinds(rig: Rig) -> list:
    return [kind for kind, _, _ in rig.outbox.alarms]


def test_a_hung_chip_worker_takes_the_reader_out_of_service_until_it_returns():
    release = threading.Event()
    made = Rig(chip=lambda txn, mrz_, cancelled: (release.wait(10), good_chip())[1], supervision=QUICK)
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        wait_until(lambda: made.outbox.crossings)           # the chip timeout referred the traveller
        wait_until(lambda: Fault.CHIP_READER in made.runner.data.faults)
        assert made.state() is State.OUT_OF_SERVICE and made.pin(ENTRY_RELAY).state is False
        assert any(kind is AlarmKind.DEVICE_FAULT and "chip_reader" in detail
                   for kind, _, detail in made.outbox.alarms)
        release.set()                                       # the worker finally answers, too late
        wait_until(lambda: made.state() is State.IDLE)
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
        wait_until(kiosk.stuck.is_set)
        assert made.pin(ENTRY_RELAY).state is True          # PASS: the entry was released, then it hung
        wait_until(lambda: not made.runner.healthy())
        wait_until(lambda: made.pin(ENTRY_RELAY).state is False)   # nobody inside: everything locked
        wait_until(lambda: AlarmKind.LANE_STALLED in alarm_kinds(made))
        kiosk.release.set()
        wait_until(lambda: made.outbox.crossings)
        assert made.outbox.crossings[0].outcome == "voided"
        wait_until(lambda: made.runner.healthy() and made.state() is State.IDLE)
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

    def open_door(self, door):
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
        wait_until(lambda: made.state() is State.OUT_OF_SERVICE and made.outbox.crossings)
        detail = next(d for k, _, d in made.outbox.alarms if k is AlarmKind.DEVICE_FAULT)
        assert detail.startswith("gate_driver") and "fail_secure" not in detail   # fail modes not wired here
        before = gate.calls
        time.sleep(0.5)
        assert gate.calls - before <= 12        # probed every 0.1 s, not spinning on its own failures
        gate.gone = False
        wait_until(lambda: made.state() is State.IDLE)
        assert made.pin(ENTRY_RELAY).state is False and made.pin(EXIT_RELAY).state is False
        made.runner.submit(ev.DocumentPresented(mrz()))     # back in service without a restart
        wait_until(lambda: made.pin(ENTRY_RELAY).state is True)
    finally:
        gate.gone = False
        made.close()


def test_a_fault_with_the_traveller_inside_locks_the_exit_relay_and_releases_the_entry_relay(rig):
    rig.runner.submit(ev.DocumentPresented(mrz()))
    wait_until(lambda: rig.pin(ENTRY_RELAY).state is True)
    rig.pin(ENTRY_SENSOR).drive_high()
    rig.pin(PRESENCE).drive_low()
    wait_until(lambda: rig.pin(ENTRY_RELAY).state is False)
    rig.pin(ENTRY_SENSOR).drive_low()
    wait_until(lambda: rig.pin(EXIT_RELAY).state is True)
    rig.pin(EXIT_SENSOR).drive_high()
    rig.runner.submit(ev.DeviceFault(Fault.JOURNAL, "disk full"))
    wait_until(lambda: rig.pin(EXIT_RELAY).state is False and rig.pin(ENTRY_RELAY).state is True)
    assert AlarmKind.PERSON_INSIDE in alarm_kinds(rig)
    rig.pin(PRESENCE).drive_high()                          # stepped back out through the entry
    wait_until(lambda: rig.pin(ENTRY_RELAY).state is False)


def test_kiosk_inputs_reach_the_lane_through_the_runner(rig):
    rig.runner.on_traveller_input(TravellerInput(InputKind.ASSISTANCE))
    rig.runner.on_traveller_input(TravellerInput(InputKind.LANGUAGE, "fr"))
    wait_until(lambda: rig.kiosk.views and rig.kiosk.views[-1].assistance_called)
    assert alarm_kinds(rig).count(AlarmKind.ASSISTANCE_REQUESTED) == 1
