"""The lane publishes a step (runner.data, read by the BMIS status and health, and the observer)
only after its relays acted: nobody sees 'pass' while the entry is still locked, and a relay write
that fails is published as the fault's state, never as a passage. Real gate driver on gpiozero
MockFactory pins (tests/lane_rig.py)."""
from __future__ import annotations

import threading

import pytest

from drivers.errors import DriverIOError
from drivers.gate import Door
from firmware_app.kiosk.view import Screen
from firmware_app.lane import events as ev
from firmware_app.lane.state import Fault, State
from tests.lane_helpers import mrz
from tests.lane_rig import ENTRY_RELAY, Rig
from tests.polling import wait_until


class WatchedGate:
    """The real driver; at each entry command it notes what an observer reading runner.data would
    see at that instant, and the entry relay pin's level; `fail_open` makes the write fail."""

    def __init__(self, gate, fail_open: bool = False):
        self.gate, self.fail_open, self.rig = gate, fail_open, None
        self.seen_at_open: list[tuple[State | None, bool]] = []

    def __getattr__(self, name):
        return getattr(self.gate, name)

    def open_door(self, door, passage=None):
        data = self.rig.runner.data
        self.seen_at_open.append((data.state if data else None, self.rig.pin(ENTRY_RELAY).state))
        if self.fail_open and door is Door.ENTRY:
            raise DriverIOError("relay write failed")
        self.gate.open_door(door, passage=passage) if passage else self.gate.open_door(door)


def _rig(fail_open: bool):
    watched: dict[str, WatchedGate] = {}

    def wrap(gate):
        watched["gate"] = WatchedGate(gate, fail_open)
        return watched["gate"]
    rig = Rig(gate_wrapper=wrap)
    gate = watched["gate"]
    gate.rig = rig
    published: list[State] = []
    lock = threading.Lock()

    def observe(data):
        with lock:
            published.append(data.state)
    rig.runner.ports.observer = observe
    rig.runner.start()
    return rig, gate, published


@pytest.fixture
def passing():
    rig, gate, published = _rig(fail_open=False)
    yield rig, gate, published
    rig.close()


@pytest.fixture
def failing():
    rig, gate, published = _rig(fail_open=True)
    yield rig, gate, published
    rig.close()


def test_pass_is_published_only_once_the_entry_relay_is_energised(passing):
    rig, gate, published = passing
    rig.runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is True)
    assert wait_until(lambda: State.PASSAGE in published)
    state_at_open, relay_at_open = gate.seen_at_open[0]
    assert relay_at_open is False                       # the command had not acted yet ...
    assert state_at_open is not State.PASSAGE            # ... and nobody could read 'pass' meanwhile
    assert rig.runner.data.state is State.PASSAGE and rig.pin(ENTRY_RELAY).state is True


def test_a_failed_relay_write_is_published_as_the_fault_never_as_a_pass(failing):
    rig, gate, published = failing
    rig.runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: Fault.GATE_DRIVER in rig.runner.data.faults)
    assert wait_until(lambda: rig.runner.data.state is State.OUT_OF_SERVICE)
    assert gate.seen_at_open and all(state is not State.PASSAGE for state, _ in gate.seen_at_open)
    assert State.PASSAGE not in published and State.CLOSING not in published
    assert rig.pin(ENTRY_RELAY).state is False
    screens = [view.screen for view in rig.kiosk.views]
    assert Screen.PLEASE_PROCEED not in screens and screens[-1] is Screen.SEE_OFFICER
    assert any("open_door entry" in detail for _, _, detail in rig.outbox.exceptions)
