"""Never trapped: faults, tamper and forced doors during a mantrap passage lock the exit and release
the entry for the traveller to step back; the gate driver's own failure and restoration; emergency
end with somebody inside; presence outside a passage. Table-driven over faults x passage phases."""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door, FailMode, LayoutKind
from firmware_app.kiosk.view import Instruction, Screen
from firmware_app.lane import events as ev
from firmware_app.lane.actions import (
    AlarmKind,
    CloseDoor,
    OpenDoor,
    RaiseAlarm,
    RecordCrossing,
    ReleaseDoors,
    SecureDoors,
    ShowScreen,
)
from firmware_app.lane.machine import initial
from firmware_app.lane.safety import gate_failure_note
from firmware_app.lane.state import Fault, LaneSettings, Phase, State, TimerKind
from tests.lane_helpers import NOW, Lane, alarms, door_invariant_holds, mrz, to_passage


def to_phase(lane: Lane, phase: Phase) -> None:
    to_passage(lane)
    steps = {Phase.ENTERING: [], Phase.ENTRY_CLOSING: [ev.PresenceChanged(1)],
             Phase.EXITING: [ev.PresenceChanged(1), ev.DoorClosed(Door.ENTRY), ev.DoorOpened(Door.EXIT)],
             Phase.TAILGATE_HOLD: [ev.PresenceChanged(1), ev.PresenceChanged(2)],
             Phase.EXIT_CLOSING: [ev.PresenceChanged(1), ev.DoorClosed(Door.ENTRY), ev.DoorOpened(Door.EXIT),
                                  ev.PresenceChanged(0)]}[phase]
    for event in steps:
        lane.send(event)
    passage = lane.data.txn if lane.data.txn is not None else lane.data.leaving    # exiting: behind the lane
    assert passage.phase is phase


FAULTS = {
    "tamper": (ev.TamperOn(), AlarmKind.TAMPER),
    "gate_driver": (ev.DeviceFault(Fault.GATE_DRIVER, "open_door entry: DriverIOError"), AlarmKind.DEVICE_FAULT),
    "journal": (ev.DeviceFault(Fault.JOURNAL, "outbox OutboxFull"), AlarmKind.DEVICE_FAULT),
    "forced_exit": (ev.DoorOpened(Door.EXIT), AlarmKind.DOOR_FORCED),
}
INSIDE_PHASES = [Phase.ENTERING, Phase.ENTRY_CLOSING, Phase.EXITING, Phase.TAILGATE_HOLD]


@pytest.mark.parametrize("phase", INSIDE_PHASES)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_in_a_mantrap_passage_locks_the_exit_and_opens_the_way_back(fault, phase):
    lane = Lane()
    to_phase(lane, phase)
    event, alarm = FAULTS[fault]
    if fault == "forced_exit" and Door.EXIT in lane.data.sensed_open:
        event = ev.DoorOpened(Door.ENTRY) if Door.ENTRY not in lane.data.sensed_open else ev.TamperOn()
        alarm = AlarmKind.DOOR_FORCED if isinstance(event, ev.DoorOpened) else AlarmKind.TAMPER
    actions = lane.send(event)
    data = lane.data
    assert Door.EXIT not in data.commanded_open and Door.ENTRY in data.commanded_open and data.retreat
    assert SecureDoors() not in actions and ReleaseDoors() not in actions    # the entry is never re-locked
    assert OpenDoor(Door.EXIT) not in actions
    if phase is Phase.EXITING:
        assert CloseDoor(Door.EXIT) in actions and OpenDoor(Door.ENTRY) in actions
    assert alarm in alarms(lane) and AlarmKind.PERSON_INSIDE in alarms(lane)
    assert lane.of(RecordCrossing)[-1].record.outcome == "voided" and data.txn is None
    assert data.state is State.OUT_OF_SERVICE and door_invariant_holds(data)
    assert [a.view for a in actions if isinstance(a, ShowScreen)][-1].instruction == Instruction.STEP_BACK.value


def test_fault_after_the_traveller_left_secures_everything():
    lane = Lane()
    to_phase(lane, Phase.EXITING)
    lane.send(ev.PresenceChanged(0))        # out: the crossing is done, the exit shutting behind them
    actions = lane.send(ev.TamperOn())
    assert SecureDoors() in actions and not lane.data.retreat and not lane.data.commanded_open


def test_barrier_fault_in_passage_secures_the_barrier():
    lane = Lane(layout=LayoutKind.BARRIER)
    to_phase(lane, Phase.ENTERING)
    lane.send(ev.PresenceChanged(1))
    actions = lane.send(ev.TamperOn())
    assert SecureDoors() in actions and not lane.data.retreat and not lane.data.commanded_open


def test_retreat_ends_when_the_traveller_has_stepped_back_then_the_lane_recovers():
    lane = Lane()
    to_phase(lane, Phase.ENTRY_CLOSING)
    lane.send(ev.TamperOn())
    assert CloseDoor(Door.ENTRY) in lane.send(ev.PresenceChanged(0))
    assert not lane.data.retreat and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DoorClosed(Door.ENTRY))
    lane.send(ev.TamperOff())
    assert lane.state is State.IDLE and not lane.data.commanded_open


def test_retreat_timer_closes_the_entry_only_when_nobody_is_inside():
    lane = Lane()
    to_phase(lane, Phase.ENTERING)          # entry open, nobody sensed yet
    lane.send(ev.DeviceFault(Fault.JOURNAL))
    assert CloseDoor(Door.ENTRY) in lane.fire(TimerKind.RETREAT)
    lane = Lane()
    to_phase(lane, Phase.EXITING)
    lane.send(ev.TamperOn())
    actions = lane.fire(TimerKind.RETREAT)
    assert CloseDoor(Door.ENTRY) not in actions and Door.ENTRY in lane.data.commanded_open
    assert AlarmKind.TRAVELLER_LINGERING in alarms(lane)


def test_a_failed_gate_driver_is_named_in_the_alarm_with_what_the_doors_do_physically():
    settings = LaneSettings(fail_modes=((Door.ENTRY, FailMode.FAIL_SAFE), (Door.EXIT, FailMode.FAIL_SECURE)))
    note = gate_failure_note(settings)
    assert "entry fail_safe: released" in note and "exit fail_secure: locked" in note
    lane = Lane()
    to_phase(lane, Phase.EXITING)
    lane.send(ev.DeviceFault(Fault.GATE_DRIVER, "close_door exit: DriverIOError"))
    detail = next(a.detail for a in lane.of(RaiseAlarm) if a.kind is AlarmKind.DEVICE_FAULT)
    assert detail.startswith("gate_driver") and "doors may not answer commands" in detail


def test_a_repeated_gate_fault_commands_nothing_so_a_dead_driver_cannot_loop():
    lane = Lane()
    lane.send(ev.DeviceFault(Fault.GATE_DRIVER, "secure_all: DriverIOError"))
    assert lane.send(ev.DeviceFault(Fault.GATE_DRIVER, "secure_all: DriverIOError")) == ()


@pytest.mark.parametrize("setup, first", [
    ("idle", SecureDoors()),
    ("retreat", CloseDoor(Door.EXIT)),
    ("emergency", ReleaseDoors()),
])
def test_a_restored_gate_driver_has_its_doors_commanded_again_first(setup, first):
    lane = Lane()
    if setup == "retreat":
        to_phase(lane, Phase.EXITING)
    lane.send(ev.DeviceFault(Fault.GATE_DRIVER, "gone"))
    if setup == "emergency":
        lane.send(ev.EmergencyOn())
    actions = lane.send(ev.DeviceRestored(Fault.GATE_DRIVER))
    assert actions[0] == first
    if setup == "retreat":
        assert OpenDoor(Door.ENTRY) in actions and lane.state is State.OUT_OF_SERVICE
    if setup == "idle":
        assert lane.state is State.IDLE


def test_emergency_ending_with_somebody_inside_keeps_the_way_back_open():
    lane = Lane()
    to_phase(lane, Phase.EXITING)
    lane.send(ev.EmergencyOn())
    actions = lane.send(ev.EmergencyOff())
    assert SecureDoors() not in actions and CloseDoor(Door.EXIT) in actions
    assert lane.data.commanded_open == {Door.ENTRY} and lane.data.retreat


def test_somebody_inside_while_idle_gets_the_entry_released_and_an_officer_called():
    lane = Lane()
    actions = lane.send(ev.PresenceChanged(1))
    assert OpenDoor(Door.ENTRY) in actions and OpenDoor(Door.EXIT) not in actions
    assert AlarmKind.PERSON_INSIDE in alarms(lane) and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.DocumentPresented(mrz()))
    assert lane.data.txn is None                      # no transaction while somebody is inside
    lane.send(ev.PresenceChanged(0))
    assert lane.state is State.IDLE and not lane.data.commanded_open


def test_forced_entry_when_idle_then_somebody_walks_in_and_the_door_shuts_behind_them():
    lane = Lane()
    lane.send(ev.DoorOpened(Door.ENTRY))
    assert AlarmKind.DOOR_FORCED in alarms(lane) and lane.state is State.OUT_OF_SERVICE
    lane.send(ev.PresenceChanged(1))
    lane.send(ev.DoorClosed(Door.ENTRY))
    assert lane.data.commanded_open == {Door.ENTRY} and lane.state is State.OUT_OF_SERVICE


def test_start_with_somebody_inside_releases_the_entry():
    data, actions = initial(LaneSettings(), presence=1, now=NOW)
    assert actions[0] == SecureDoors() and OpenDoor(Door.ENTRY) in actions and data.retreat
    assert data.state is State.OUT_OF_SERVICE
    assert [a.view.screen for a in actions if isinstance(a, ShowScreen)][-1] is Screen.SEE_OFFICER


@pytest.mark.parametrize("fault", [Fault.READER, Fault.CHIP_READER, Fault.CAMERA, Fault.DECIDER])
def test_a_fault_of_a_device_the_passage_does_not_need_lets_the_traveller_finish(fault):
    lane = Lane()
    to_phase(lane, Phase.EXITING)
    lane.send(ev.DeviceFault(fault, "stage worker hung"))
    # out of service for the next traveller; the one walking out behind the lane keeps the exit
    assert lane.state is State.OUT_OF_SERVICE and lane.data.commanded_open == {Door.EXIT} and lane.data.leaving
    lane.send(ev.PresenceChanged(0))
    lane.send(ev.DoorClosed(Door.EXIT))
    assert lane.of(RecordCrossing)[-1].record.outcome == "passed" and lane.state is State.OUT_OF_SERVICE
