"""The bench's people (simulator/scenario_walk.py): a traveller walking out behind the lane is found
and walked out by their own Tail, and never takes the next traveller off the presence sensor."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from drivers.gate.layout import Door, LayoutKind
from firmware_app.lane.state import LaneData, LaneSettings, Phase, Transaction
from firmware_app.policy import LaneMode
from simulator.scenario import Behaviour
from simulator.scenario_walk import Tail, Walker, phase_of
from tests.lane_helpers import NOW


class FakeGate:
    layout = SimpleNamespace(doors={Door.ENTRY: None, Door.EXIT: None})

    def __init__(self):
        self.open: set[Door] = set()
        self.inside = 0

    def is_open(self, door: Door) -> bool:
        return door in self.open

    def set_inside(self, count: int) -> None:
        self.inside = count


def _walking_out(txn_id: str = "boot-000001") -> LaneData:
    leaving = replace(Transaction(txn_id, NOW, LaneMode.NORMAL), phase=Phase.EXITING, entered=True)
    return LaneData(settings=LaneSettings(layout=LayoutKind.MANTRAP), leaving=leaving, presence=1)


def test_the_phase_is_found_at_the_front_or_behind_the_lane():
    data = _walking_out()
    assert phase_of(data, "boot-000001") is Phase.EXITING and phase_of(data, "other") is None


def test_the_tail_walks_them_out_and_then_leaves_the_sensor_to_the_next_traveller():
    gate = FakeGate()
    walker = Walker(SimpleNamespace(gate=gate), Behaviour.WALK)
    walker.entered = True
    gate.inside, gate.open = 1, {Door.EXIT}
    records = iter([None, {"data": {"transaction_id": "boot-000001"}}])

    def record(txn_id):
        if gate.inside == 0:
            gate.inside = 1         # the next traveller already stepped in when the record comes
        return next(records)
    tail = Tail(walker, "boot-000001", _walking_out, record, timeout_s=2.0, poll_s=0.001)
    assert tail.join() == {"data": {"transaction_id": "boot-000001"}} and tail.done_at is not None
    assert walker.out and gate.inside == 1
