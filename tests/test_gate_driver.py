"""The gate driver on gpiozero's own MockFactory pins: relays safe at start and close, contacts
and normally-closed loops, events, layouts, and a factory that is never chosen silently."""
from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.errors import DriverError, DriverIOError, DriverUnavailable
from drivers.gate import (
    Door,
    DoorPins,
    FailMode,
    GateDriver,
    GateEvent,
    GateEventKind,
    GateLayout,
    LayoutKind,
    UnknownPinFactory,
    make_pin_factory,
)

ENTRY_RELAY, ENTRY_SENSOR, EXIT_RELAY, EXIT_SENSOR = 17, 27, 22, 23
PRESENCE, EMERGENCY, TAMPER, LIGHT = (24, 16), 25, 5, 6


def mantrap(exit_mode=FailMode.FAIL_SECURE) -> GateLayout:
    return GateLayout(LayoutKind.MANTRAP,
                      {Door.ENTRY: DoorPins(ENTRY_RELAY, ENTRY_SENSOR),
                       Door.EXIT: DoorPins(EXIT_RELAY, EXIT_SENSOR, exit_mode)},
                      PRESENCE, EMERGENCY, TAMPER, light=LIGHT)


@pytest.fixture
def rig():
    factory = MockFactory()
    events: list[GateEvent] = []
    gate = GateDriver(mantrap(FailMode.FAIL_SAFE), factory, events.append)
    for pin in (ENTRY_SENSOR, EXIT_SENSOR, EMERGENCY, TAMPER):
        factory.pin(pin).drive_low()        # doors shut, loops closed: a quiet gate
    events.clear()
    yield gate, factory, events
    gate.close()


def kinds(events):
    return [(e.kind, e.door, e.count) for e in events]


def test_relays_start_locked_for_both_fail_modes(rig):
    gate, factory, _ = rig
    assert factory.pin(ENTRY_RELAY).state is False       # fail-secure: de-energised = locked
    assert factory.pin(EXIT_RELAY).state is True         # fail-safe maglock: energised = locked
    assert gate.snapshot().doors_open == frozenset() and not gate.snapshot().emergency


def test_open_and_close_drive_the_relay_the_right_way(rig):
    gate, factory, _ = rig
    gate.open_door(Door.ENTRY)
    gate.open_door(Door.EXIT)
    assert factory.pin(ENTRY_RELAY).state is True and factory.pin(EXIT_RELAY).state is False
    gate.secure_all()
    assert factory.pin(ENTRY_RELAY).state is False and factory.pin(EXIT_RELAY).state is True


@pytest.mark.parametrize("command, other_state", [("release_all", False), ("secure_all", True)])
def test_one_failed_relay_does_not_stop_the_others(rig, command, other_state):
    gate, factory, _ = rig
    if command == "secure_all":
        gate.open_door(Door.EXIT)
    gate._relays[Door.ENTRY].close()            # the entry relay's pin is gone
    with pytest.raises(DriverIOError, match="entry"):
        getattr(gate, command)()
    assert factory.pin(EXIT_RELAY).state is other_state      # fail-safe exit: False = released


def test_door_sensor_events(rig):
    _, factory, events = rig
    factory.pin(EXIT_SENSOR).drive_high()
    factory.pin(EXIT_SENSOR).drive_low()
    assert kinds(events) == [(GateEventKind.DOOR_OPENED, Door.EXIT, None),
                             (GateEventKind.DOOR_CLOSED, Door.EXIT, None)]


def test_presence_counts_occupied_zones(rig):
    gate, factory, events = rig
    factory.pin(PRESENCE[0]).drive_low()
    factory.pin(PRESENCE[1]).drive_low()
    factory.pin(PRESENCE[0]).drive_high()
    assert [e.count for e in events] == [1, 2, 1] and gate.snapshot().presence == 1


def test_emergency_loop_open_or_cut_means_emergency(rig):
    gate, factory, events = rig
    factory.pin(EMERGENCY).drive_high()      # loop opened (button pressed, or the wire cut)
    assert events[-1].kind is GateEventKind.EMERGENCY_ON and gate.snapshot().emergency
    factory.pin(EMERGENCY).drive_low()
    assert events[-1].kind is GateEventKind.EMERGENCY_OFF


def test_tamper_loop(rig):
    gate, factory, events = rig
    factory.pin(TAMPER).drive_high()
    assert events[-1].kind is GateEventKind.TAMPER_ON and gate.snapshot().tamper


def test_light_is_optional_output(rig):
    gate, factory, _ = rig
    gate.set_light(True)
    assert factory.pin(LIGHT).state is True
    gate.set_buzzer(True)    # no buzzer configured: nothing to drive, no error


def _relay_levels_at_close(layout, keep=frozenset()):
    """Pin levels just before the devices are released (MockFactory resets pins on release)."""
    factory = MockFactory()
    gate = GateDriver(layout, factory, lambda e: None)
    gate.release_all()
    levels = {}
    original = gate._close_devices
    gate._close_devices = lambda keep=frozenset(): (
        levels.update({p: factory.pin(p).state for p in (ENTRY_RELAY, EXIT_RELAY)}), original(keep))
    gate.close(keep_released=keep)
    return levels


@pytest.mark.parametrize("active_high", [True, False])
def test_close_leaves_every_relay_de_energised_so_each_door_rests_in_its_fail_mode(active_high):
    """Pi kernels keep an output's level after the process ends: a relay left energised at close
    kept a fail-secure door released (or a maglock locked with nobody watching the fire loop)."""
    layout = GateLayout(LayoutKind.MANTRAP,
                        {Door.ENTRY: DoorPins(ENTRY_RELAY, ENTRY_SENSOR, FailMode.FAIL_SECURE, active_high),
                         Door.EXIT: DoorPins(EXIT_RELAY, EXIT_SENSOR, FailMode.FAIL_SAFE, active_high)},
                        PRESENCE, EMERGENCY, TAMPER)
    rest = not active_high
    assert _relay_levels_at_close(layout) == {ENTRY_RELAY: rest, EXIT_RELAY: rest}


def test_close_can_leave_the_entry_released_for_somebody_inside_until_the_interpreter_exits():
    factory = MockFactory()
    gate = GateDriver(mantrap(), factory, lambda e: None)
    gate.release_all()
    gate.close(keep_released=frozenset({Door.ENTRY}))
    assert factory.pin(ENTRY_RELAY).state is True and factory.pin(ENTRY_RELAY).function == "output"
    gate.rest_relays()              # what the atexit hook does when the process ends
    assert factory.pin(ENTRY_RELAY).state is False


def test_an_active_low_relay_board_keeps_a_fail_secure_door_locked_at_start():
    """Polarity was derived from the fail mode: on an active-low board the fail-secure entry was
    energised (released) the moment the driver started."""
    factory = MockFactory()
    layout = GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 27, relay_active_high=False)}, (24,), 25)
    with GateDriver(layout, factory, lambda e: None) as gate:
        assert factory.pin(17).state is True            # active low: high = relay off = locked
        gate.open_door(Door.ENTRY)
        assert factory.pin(17).state is False and gate.released_doors() == {Door.ENTRY}


EXIT_PATH_CHILD = """
import atexit, sys
from gpiozero.pins.mock import MockFactory
from drivers.gate import Door, DoorPins, GateDriver, GateLayout, LayoutKind
factory = MockFactory()
atexit.register(lambda: print("relay", int(factory.pin(17).state), flush=True))   # runs after the driver's hook
gate = GateDriver(GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 27)}, (24,), 25), factory, print)
gate.open_door(Door.ENTRY)
print("released", int(factory.pin(17).state), flush=True)
raise SystemExit(3)          # an exit path that never calls close()
"""


def test_an_exit_without_close_still_de_energises_the_relays():
    import subprocess
    import sys
    from pathlib import Path
    done = subprocess.run([sys.executable, "-c", EXIT_PATH_CHILD], capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 3, done.stderr
    assert done.stdout.split() == ["released", "1", "relay", "0"]


def test_barrier_layout_has_one_door_and_refuses_exit():
    factory = MockFactory()
    layout = GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 27)}, (24,), 25)
    with GateDriver(layout, factory, lambda e: None) as gate, pytest.raises(DriverIOError):
        gate.open_door(Door.EXIT)


@pytest.mark.parametrize("make", [
    lambda: GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(17, 27)}, (24,), 25),
    lambda: GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 27)}, (), 25),
    lambda: GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 27)}, (24,), 17),
])
def test_inconsistent_layouts_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_invalid_pin_is_driver_unavailable():
    layout = GateLayout(LayoutKind.BARRIER, {Door.ENTRY: DoorPins(17, 999)}, (24,), 25)
    with pytest.raises(DriverUnavailable):
        GateDriver(layout, MockFactory(), lambda e: None)


def test_mock_factory_by_name():
    assert isinstance(make_pin_factory("mock"), MockFactory)


@pytest.mark.parametrize("name", ["", "native?", "MOCK", None, "pigpio"])
def test_unknown_factory_is_refused_never_replaced(name):
    with pytest.raises(UnknownPinFactory) as info:
        make_pin_factory(name)
    assert isinstance(info.value, DriverUnavailable) and isinstance(info.value, DriverError)


@pytest.mark.parametrize("name", ["lgpio", "rpigpio"])
def test_pi_factories_off_a_pi_are_unavailable_not_mocked(name):
    try:
        factory = make_pin_factory(name)
    except DriverUnavailable:
        return
    assert not isinstance(factory, MockFactory)      # on a real Pi it loads the real thing
    factory.close()


def test_lgpio_writes_its_files_in_a_writable_state_directory_not_the_working_directory(monkeypatch, tmp_path):
    """lgpio puts notification files in the working directory, which the unit makes read-only."""
    from drivers.gate.pins import lgpio_workdir
    monkeypatch.delenv("LG_WD", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}:/var/lib/other")
    try:
        make_pin_factory("lgpio")
    except DriverUnavailable:
        pass        # off a Pi: the factory cannot start, but the directory was chosen before the import
    import os
    assert os.environ["LG_WD"] == str(tmp_path)
    assert lgpio_workdir({"LG_WD": "/run/x", "STATE_DIRECTORY": "/var/lib/y"}) == "/run/x"
