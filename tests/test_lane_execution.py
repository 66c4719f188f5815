"""The runner carries out every action the machine can emit, and the machine recognises every
event that names a transaction (a late one is dropped): both by declaration, checked here, so a
new Action or transaction event cannot be added without its handling."""
from __future__ import annotations

import dataclasses
import typing

from firmware_app.lane import actions, events
from firmware_app.lane.execution import HANDLERS


def _dataclasses_of(module) -> set[type]:
    return {value for value in vars(module).values()
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__}


def test_every_lane_action_has_exactly_one_handler():
    declared = _dataclasses_of(actions)
    assert declared == set(typing.get_args(actions.Action))
    assert declared - set(HANDLERS) == set(), "actions without a handler in execution.HANDLERS"
    assert set(HANDLERS) - declared == set()


def test_every_event_naming_a_transaction_is_checked_against_the_running_one():
    naming = {cls for cls in _dataclasses_of(events) if "txn_id" in {f.name for f in dataclasses.fields(cls)}}
    assert naming == set(events.TRANSACTION_EVENTS)


def test_bench_lane_runs_its_rounds_back_to_back(capsys):
    """A round used to start while the last emergency's relays were still released (the lane's
    state is published before its actions reach the relays) and crashed with StopIteration."""
    from bench.lane_bench import main
    assert main(["--transactions", "5", "--rounds", "4"]) == 0
    out = capsys.readouterr().out
    assert "document -> entry released" in out and "(4 rounds)" in out
