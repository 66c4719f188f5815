"""The lane runner with the real gate driver on gpiozero MockFactory pins, a real SQLite journal,
the real policy, and fake stages: whole transactions, restart recovery, failing ports."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from drivers.errors import DriverIOError
from drivers.gate import Door
from firmware_app.lane import events as ev
from firmware_app.lane.actions import AlarmKind, ExceptionKind
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.state import Fault, State
from tests.lane_helpers import good_chip, mrz
from tests.lane_rig import (
    EMERGENCY,
    ENTRY_RELAY,
    EXIT_RELAY,
    EXIT_SENSOR,
    PRESENCE,
    Outbox,
    Rig,
    rig,  # noqa: F401  (fixture)
)
from tests.polling import wait_until


def test_whole_transaction_drives_the_real_relays(rig):
    rig.step_into_the_mantrap()
    rig.pin(EXIT_SENSOR).drive_high()
    rig.pin(PRESENCE).drive_high()                                  # gone through the exit
    assert wait_until(lambda: rig.pin(EXIT_RELAY).state is False)
    rig.pin(EXIT_SENSOR).drive_low()
    assert wait_until(lambda: rig.outbox.crossings)
    record = rig.outbox.crossings[0].to_dict()
    assert record["outcome"] == "passed" and record["passage"]["single_passage_confirmed"] is True
    assert rig.journal.outcome(record["transaction_id"]) == "passed"
    assert any(v.instruction == "come_closer" for v in rig.kiosk.views)
    assert wait_until(lambda: rig.state() is State.IDLE)


def test_emergency_loop_cut_releases_both_doors(rig):
    rig.pin(EMERGENCY).drive_high()
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is True and rig.pin(EXIT_RELAY).state is True)
    # the relays are released by the runner's emergency worker, before the loop has handled the event
    assert wait_until(lambda: rig.state() is State.EMERGENCY and rig.outbox.alarms)
    assert rig.outbox.alarms[0][0] is AlarmKind.EMERGENCY
    rig.pin(EMERGENCY).drive_low()
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is False and rig.pin(EXIT_RELAY).state is False)


def test_chip_stage_that_hangs_times_out_and_refers(rig):
    rig.runner.stop()
    hung = threading.Event()
    made = Rig(chip=lambda txn, mrz_, cancelled: (cancelled.wait(5), hung.set(), good_chip())[2])
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.outbox.crossings)
        assert made.outbox.crossings[0].outcome == "referred"
        assert any(kind is ExceptionKind.STAGE_TIMEOUT for kind, _, _ in made.outbox.exceptions)
        assert wait_until(hung.is_set)        # the worker was told to stop
        assert made.pin(ENTRY_RELAY).state is False
    finally:
        made.close()


def test_chip_stage_error_becomes_a_referral():
    def broken(txn, mrz_, cancelled):
        raise DriverIOError("reader unplugged")
    made = Rig(chip=broken)
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.outbox.crossings)
        assert made.outbox.crossings[0].chip.detail == "DriverIOError"
        assert made.outbox.crossings[0].outcome == "referred"
    finally:
        made.close()


class VanishingGate:
    """The real driver until the relay board disappears."""

    def __init__(self, gate):
        self.gate, self.gone = gate, False

    def __getattr__(self, name):
        return getattr(self.gate, name)

    def open_door(self, door, passage=None):
        if self.gone:
            raise DriverIOError("relay board gone")
        self.gate.open_door(door, passage)


def test_gate_driver_disappearing_takes_the_lane_out_of_service():
    made = Rig(gate_wrapper=VanishingGate)
    made.runner.start()
    try:
        made.runner.ports.gate.gone = True
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.state() is State.OUT_OF_SERVICE)
        assert made.outbox.crossings[-1].outcome == "voided"
        assert made.pin(ENTRY_RELAY).state is False
        made.runner.submit(ev.DocumentPresented(mrz()))    # still answering, still shut
        time.sleep(0.05)
        assert made.state() is State.OUT_OF_SERVICE
    finally:
        made.close()


def test_restart_secures_first_then_voids_and_reports_open_transactions(tmp_path):
    path = tmp_path / "lane.db"
    crashed = LaneJournal.open(path)
    crashed.begin("boot0-000007", datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    made = Rig(journal=LaneJournal.open(path))
    made.gate.open_door(Door.ENTRY)          # as the crash left it
    order = []
    made.gate.secure_all = (lambda original: lambda: (order.append("secure"), original())[1])(made.gate.secure_all)
    made.journal.void_open = (lambda original: lambda now, report: (order.append("void"), original(now, report))[1])(
        made.journal.void_open)
    made.runner.start()
    try:
        assert order[:2] == ["secure", "void"] and made.pin(ENTRY_RELAY).state is False
        assert made.outbox.exceptions[0][:2] == (ExceptionKind.TRANSACTION_VOIDED, "boot0-000007")
        assert LaneJournal.open(path).open_transactions() == []
    finally:
        made.close()


class FailingOutbox(Outbox):
    def exception(self, kind, txn_id, detail):
        raise OSError("outbox disk full")


def test_an_open_transaction_whose_void_report_fails_stays_open_for_the_next_start(tmp_path):
    path = tmp_path / "lane.db"
    LaneJournal.open(path).begin("boot0-000008", datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    made = Rig(journal=LaneJournal.open(path))
    made.outbox = made.runner.ports.outbox = FailingOutbox()
    made.runner.start()
    try:
        assert wait_until(lambda: made.state() is State.OUT_OF_SERVICE)         # the outbox fault stops the lane
        assert [t.txn_id for t in LaneJournal.open(path).open_transactions()] == ["boot0-000008"]
    finally:
        made.close()
    again = Rig(journal=LaneJournal.open(path))
    again.runner.start()
    try:
        assert again.outbox.exceptions[0][:2] == (ExceptionKind.TRANSACTION_VOIDED, "boot0-000008")
        assert LaneJournal.open(path).open_transactions() == []
    finally:
        again.close()


class CrossingRefusingOutbox(Outbox):
    def crossing(self, record):
        raise OSError("outbox disk full")


def test_a_crossing_the_outbox_refused_stays_open_in_the_journal(tmp_path):
    path = tmp_path / "lane.db"
    made = Rig(journal=LaneJournal.open(path), chip=lambda txn, mrz_, cancelled: (cancelled.wait(5), good_chip())[1])
    made.outbox = made.runner.ports.outbox = CrossingRefusingOutbox()
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        made.runner.submit(ev.DocumentRemoved())
        assert wait_until(lambda: Fault.OUTBOX in made.runner.data.faults)
        assert len(LaneJournal.open(path).open_transactions()) == 1     # reported as voided at next start
    finally:
        made.close()


def test_submit_before_start_is_a_typed_error():
    made = Rig()
    try:
        with pytest.raises(Exception) as info:
            made.runner.submit(ev.DocumentRemoved())
        assert type(info.value).__name__ == "LaneNotRunning"
    finally:
        made.gate.close()


def test_biometric_data_is_discarded_when_the_transaction_ends():
    import numpy as np

    from firmware_app.lane.stages import PortraitVault
    vault = PortraitVault()
    made = Rig(chip=lambda txn, mrz_, cancelled: (vault.put(txn, np.zeros((4, 4, 3), np.uint8)), good_chip())[1])
    made.runner.ports.biometrics = vault
    made.runner.start()
    try:
        made.runner.submit(ev.DocumentPresented(mrz()))
        assert wait_until(lambda: made.state() is State.PASSAGE)
        assert len(vault) == 1
        made.runner.submit(ev.Timeout(*next((k, t) for k, t in made.runner.data.timers if k.value == "enter")))
        assert wait_until(lambda: made.outbox.crossings)
        assert wait_until(lambda: len(vault) == 0)
        assert made.outbox.crossings[0].outcome == "not_entered"
    finally:
        made.close()


def test_officer_override_is_answered_on_the_real_relays_and_one_nobody_waits_for_is_dropped(rig):
    open_exit = ev.OfficerOverride(Door.EXIT, ev.OverrideAction.OPEN, "officer-3", "cmd-a")
    answer = rig.runner.officer_override(open_exit, timeout=5)
    assert answer is not None and answer.accepted
    assert wait_until(lambda: rig.pin(EXIT_RELAY).state is True)
    assert any(kind is ExceptionKind.OFFICER_OVERRIDE and "officer-3" in detail
               for kind, _, detail in rig.outbox.exceptions)
    close_all = ev.OfficerOverride(None, ev.OverrideAction.CLOSE, "officer-3", "cmd-b")
    assert rig.runner.officer_override(close_all, timeout=5).accepted
    assert wait_until(lambda: rig.pin(EXIT_RELAY).state is False)
    # an override whose command already gave up (nobody waits) must never be carried out later
    handled = rig.runner.handled
    rig.runner.submit(ev.OfficerOverride(Door.ENTRY, ev.OverrideAction.OPEN, "officer-3", "cmd-late"))
    rig.runner.submit(ev.PresenceChanged(0))
    assert wait_until(lambda: rig.runner.handled > handled)
    assert rig.pin(ENTRY_RELAY).state is False and rig.runner.data.override is None
