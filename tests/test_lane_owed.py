"""Owed lane writes (unit): kept in order, retried until the first failure, bounded, faults healed once."""
from __future__ import annotations

from firmware_app.lane.reports import OwedWrites
from firmware_app.lane.state import Fault


def test_owed_writes_run_in_order_stop_at_the_first_failure_and_heal_their_faults_once():
    done, failing = [], {"crossing"}

    def write(name):
        def run():
            if name in failing:
                raise OSError("disk full")
            done.append(name)
        return run
    owed = OwedWrites()
    owed.add("alarm", write("alarm"), Fault.OUTBOX)
    owed.add("crossing", write("crossing"), Fault.OUTBOX)
    owed.add("journal end", write("journal end"), Fault.JOURNAL)
    assert owed.retry() == frozenset() and done == ["alarm"] and len(owed) == 2
    failing.clear()
    assert owed.retry() == {Fault.OUTBOX, Fault.JOURNAL} and done == ["alarm", "crossing", "journal end"]
    assert owed.retry() == frozenset() and len(owed) == 0


def test_owed_writes_are_bounded_and_count_what_they_dropped():
    owed = OwedWrites(limit=3)
    ran = []
    for n in range(5):
        owed.add(f"w{n}", lambda n=n: ran.append(n), Fault.OUTBOX)
    assert len(owed) == 3 and owed.dropped == 2
    owed.retry()
    assert ran == [2, 3, 4]
