"""Lane figures: the pure state machine's cost, and reaction times through the runner on
gpiozero MockFactory pins (real GateDriver, instant fake stages).

    .venv/bin/python -m bench lane [--transactions N] [--rounds R]

Prints: µs of CPU per event and per full mantrap transaction in `step()`; ms from the document
to the entry relay released (runner + queue + worker threads, stages instant); ms from the
emergency loop opening to both relays released (target: well under 100 ms of software delay).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpiozero.pins.mock import MockFactory

from drivers.gate import Door, DoorPins, GateDriver, GateLayout, LayoutKind
from firmware_app.lane import events as ev
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.machine import initial, step
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.state import LaneSettings, State, TimerKind
from firmware_app.policy import InMemoryAlertLists, PolicyContext, decide
from tests.lane_helpers import PASS, TODAY, good_chip, good_face, mrz

ENTRY_RELAY, ENTRY_SENSOR, EXIT_RELAY, EXIT_SENSOR, PRESENCE, EMERGENCY = 17, 27, 22, 23, 24, 25


def _transaction(data, now, document):
    events = [ev.DocumentPresented(document)]
    count = 0
    for make in (lambda t: events[0], lambda t: ev.ChipResult(t, good_chip()), lambda t: ev.FaceResult(t, good_face()),
                 lambda t: ev.DecisionMade(t, PASS), lambda t: ev.DoorOpened(Door.ENTRY),
                 lambda t: ev.PresenceChanged(1), lambda t: ev.DoorClosed(Door.ENTRY),
                 lambda t: ev.DoorOpened(Door.EXIT), lambda t: ev.PresenceChanged(0),
                 lambda t: ev.DoorClosed(Door.EXIT)):
        now += timedelta(seconds=1)
        data, _ = step(data, make(data.txn.txn_id if data.txn else ""), now)
        count += 1
    return data, now, count


def bench_machine(transactions: int) -> tuple[float, float]:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    data, _ = initial(LaneSettings(), now=now)
    document = mrz()
    start, events = time.process_time(), 0
    for _ in range(transactions):
        data, now, count = _transaction(data, now, document)
        events += count
    spent = time.process_time() - start
    return spent / events * 1e6, spent / transactions * 1e6


class _Sink:
    def crossing(self, record): pass
    def has_crossing(self, txn_id): return False
    def exception(self, kind, txn_id, detail): pass
    def alarm(self, kind, txn_id, detail): pass
    def show(self, view): pass


def _rig():
    factory = MockFactory()
    layout = GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(ENTRY_RELAY, ENTRY_SENSOR),
                                             Door.EXIT: DoorPins(EXIT_RELAY, EXIT_SENSOR)}, (PRESENCE,), EMERGENCY)
    holder = {}
    gate = GateDriver(layout, factory, lambda e: holder["runner"].on_gate_event(e) if "runner" in holder else None)
    for pin in (ENTRY_SENSOR, EXIT_SENSOR, EMERGENCY):
        factory.pin(pin).drive_low()
    sink = _Sink()
    ports = LanePorts(gate, lambda t, m, c: good_chip(), lambda t, r, f, c: good_face(),
                      lambda req: decide(req.evidence, PolicyContext(today=TODAY), InMemoryAlertLists()),
                      sink, sink, LaneJournal.in_memory())
    runner = LaneRunner(LaneSettings(), ports, lambda: datetime.now(UTC))
    holder["runner"] = runner
    runner.start()
    return factory, gate, runner


def _wait(predicate, limit=5.0) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > limit:
            raise SystemExit("bench: the lane did not react in time")
        time.sleep(0.0002)
    return (time.perf_counter() - start) * 1000


def _secured_and_idle(factory, runner) -> bool:
    """The lane's state is published before its actions reach the relays: a round starts only
    once the doors are locked as well (else the next "entry released" is the last emergency's)."""
    relays_locked = factory.pin(ENTRY_RELAY).state is False and factory.pin(EXIT_RELAY).state is False
    return relays_locked and runner.data.state is State.IDLE


def _expire(runner, kind: TimerKind) -> None:
    token = runner.data.timer_token(kind)
    if token is None:
        raise SystemExit(f"bench: no {kind.value} timer running (lane {runner.data.state.value})")
    runner.submit(ev.Timeout(kind, token))


def bench_runner(rounds: int) -> tuple[list[float], list[float]]:
    to_open, emergency = [], []
    factory, gate, runner = _rig()
    try:
        for _ in range(rounds):
            _wait(lambda: _secured_and_idle(factory, runner))
            runner.submit(ev.DocumentPresented(mrz()))
            to_open.append(_wait(lambda: factory.pin(ENTRY_RELAY).state is True))
            _wait(lambda: runner.data.state is State.PASSAGE)
            runner.submit(ev.DocumentRemoved())
            _expire(runner, TimerKind.ENTER)
            _wait(lambda: _secured_and_idle(factory, runner))
            factory.pin(EMERGENCY).drive_high()
            emergency.append(_wait(lambda: factory.pin(ENTRY_RELAY).state and factory.pin(EXIT_RELAY).state))
            factory.pin(EMERGENCY).drive_low()
    finally:
        runner.stop()
        gate.close()
    return to_open, emergency


def _to_exiting(factory, runner) -> None:
    runner.submit(ev.DocumentPresented(mrz()))
    _wait(lambda: factory.pin(ENTRY_RELAY).state is True)
    factory.pin(ENTRY_SENSOR).drive_high()
    factory.pin(PRESENCE).drive_low()
    _wait(lambda: factory.pin(ENTRY_RELAY).state is False)
    factory.pin(ENTRY_SENSOR).drive_low()
    _wait(lambda: factory.pin(EXIT_RELAY).state is True)


def bench_retreat(rounds: int) -> list[float]:
    """Tamper mid-passage: how long until the exit is locked and the way back is open."""
    taken = []
    factory, gate, runner = _rig()
    try:
        for _ in range(rounds):
            _wait(lambda: _secured_and_idle(factory, runner))
            _to_exiting(factory, runner)
            runner.submit(ev.TamperOn())
            taken.append(_wait(lambda: factory.pin(EXIT_RELAY).state is False
                               and factory.pin(ENTRY_RELAY).state is True))
            factory.pin(PRESENCE).drive_high()          # stepped back out
            _wait(lambda: factory.pin(ENTRY_RELAY).state is False)
            runner.submit(ev.TamperOff())
    finally:
        runner.stop()
        gate.close()
    return taken


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench lane")
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    per_event, per_txn = bench_machine(args.transactions)
    print(f"step(): {per_event:.1f} µs CPU per event, {per_txn:.0f} µs per full mantrap transaction "
          f"({args.transactions} transactions)")
    to_open, emergency = bench_runner(args.rounds)
    retreat = bench_retreat(args.rounds)
    for name, values in (("document -> entry released", to_open), ("emergency loop open -> all released", emergency),
                         ("tamper mid-passage -> exit locked + entry released", retreat)):
        print(f"{name}: median {statistics.median(values):.2f} ms, max {max(values):.2f} ms ({len(values)} rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
