"""The lane runner on a bench: the real gate driver on gpiozero MockFactory pins, a real SQLite
journal (or an in-memory one), the real policy, fake chip and face stages, and recording outbox and
kiosk ports. `rig` (a fixture, via conftest) gives one started for a test."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gate import Door, DoorPins, GateDriver, GateLayout, LayoutKind
from firmware_app.lane import events as ev
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.state import LaneSettings, LaneTimeouts
from firmware_app.policy import InMemoryAlertLists, PolicyContext, decide
from tests.lane_helpers import TODAY, good_chip, good_face, mrz
from tests.polling import wait_until

ENTRY_RELAY, ENTRY_SENSOR, EXIT_RELAY, EXIT_SENSOR, PRESENCE, EMERGENCY = 17, 27, 22, 23, 24, 25
FAST = LaneTimeouts(document_s=2, chip_s=0.3, face_s=2, decision_s=2, officer_s=2, enter_s=2, exit_s=2,
                    tailgate_s=2, refer_s=0.3, held_open_s=2, retreat_s=0.3)


class Outbox:
    def __init__(self):
        self.crossings, self.exceptions, self.alarms = [], [], []

    def crossing(self, record):
        self.crossings.append(record)

    def has_crossing(self, txn_id):
        return any(record.transaction_id == txn_id for record in self.crossings)

    def exception(self, kind, txn_id, detail):
        self.exceptions.append((kind, txn_id, detail))

    def alarm(self, kind, txn_id, detail):
        self.alarms.append((kind, txn_id, detail))


class Kiosk:
    def __init__(self):
        self.views = []

    def show(self, view):
        self.views.append(view)


class Rig:
    def __init__(self, journal=None, chip=None, gate_wrapper=None, kiosk=None, supervision=None, presence_nc=(),
                 timeouts: LaneTimeouts = FAST):
        self.factory = MockFactory()
        layout = GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(ENTRY_RELAY, ENTRY_SENSOR),
                                                 Door.EXIT: DoorPins(EXIT_RELAY, EXIT_SENSOR)}, (PRESENCE,), EMERGENCY,
                            presence_nc=presence_nc, presence_grace_s=0.05)
        self.runner = None
        self.gate = GateDriver(layout, self.factory, lambda e: self.runner and self.runner.on_gate_event(e))
        for pin in (ENTRY_SENSOR, EXIT_SENSOR, EMERGENCY) + tuple(presence_nc):
            self.factory.pin(pin).drive_low()          # NC contacts closed: their zones empty
        self.outbox, self.kiosk = Outbox(), kiosk or Kiosk()
        self.journal = journal or LaneJournal.in_memory()
        ports = LanePorts(gate=gate_wrapper(self.gate) if gate_wrapper else self.gate,
                          chip=chip or (lambda txn, mrz_, cancelled: good_chip()),
                          face=lambda txn, round_no, feedback, cancelled: (feedback("come_closer"), good_face())[1],
                          decider=lambda req: decide(req.evidence, PolicyContext(today=TODAY, mode=req.mode),
                                                     InMemoryAlertLists()),
                          kiosk=self.kiosk, outbox=self.outbox, journal=self.journal)
        extra = {"supervision": supervision} if supervision else {}
        self.runner = LaneRunner(LaneSettings(timeouts=timeouts), ports, lambda: datetime.now(UTC), **extra)

    def pin(self, number):
        return self.factory.pin(number)

    def step_into_the_mantrap(self) -> None:
        """A traveller who passes steps in: the entry closes behind them and the exit is released."""
        self.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: self.pin(ENTRY_RELAY).state is True)         # entry released after PASS
        self.pin(ENTRY_SENSOR).drive_high()
        self.pin(PRESENCE).drive_low()                                  # one person inside
        assert wait_until(lambda: self.pin(ENTRY_RELAY).state is False)
        self.pin(ENTRY_SENSOR).drive_low()
        assert wait_until(lambda: self.pin(EXIT_RELAY).state is True)

    def state(self):
        return self.runner.data.state

    def close(self):
        self.runner.stop()
        self.gate.close()


@pytest.fixture
def rig():
    made = Rig()
    made.runner.start()
    yield made
    made.close()
