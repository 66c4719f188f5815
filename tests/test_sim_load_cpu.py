"""`gatesim load`'s CPU per traveller with lanes side by side (simulator/load_cpu.py), on a scripted
process CPU clock: the process CPU is shared between the travellers in progress, never counted twice."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.load_cpu import CpuShares


class ScriptedCpu:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_lane_s_traveller_gets_the_plain_difference():
    clock = ScriptedCpu()
    shares = CpuShares(clock)
    clock.now = 10.0
    shares.start(1)
    clock.now = 13.5
    assert shares.end(1) == 3.5
    clock.now = 20.0                  # between travellers: nobody's
    shares.start(1)
    clock.now = 21.0
    assert shares.end(1) == 1.0


def test_two_overlapping_travellers_share_the_overlap_instead_of_both_counting_it():
    clock = ScriptedCpu()
    shares = CpuShares(clock)
    shares.start(1)                   # 0-2: lane 1 alone, 2-6: both, 6-8: lane 2 alone
    clock.now = 2.0
    shares.start(2)
    clock.now = 6.0
    first = shares.end(1)
    clock.now = 8.0
    second = shares.end(2)
    assert (first, second) == (4.0, 4.0)
    assert first + second == 8.0      # the process CPU spent; the old differences gave 6 + 6 = 12


# A run of events: which lane starts or ends its traveller, and how much CPU passed before it.
steps = st.lists(st.tuples(st.sampled_from([1, 2]), st.floats(0.0, 5.0, allow_nan=False)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_shares_add_up_to_the_cpu_spent_while_any_traveller_was_in_progress(events):
    clock = ScriptedCpu()
    shares = CpuShares(clock)
    busy: dict[int, float] = {}       # lane -> CPU clock at its traveller's start
    charged, spent_busy = [], 0.0
    for lane, passed in events:
        spent_busy += passed if busy else 0.0
        clock.now += passed
        if lane in busy:
            share = shares.end(lane)
            assert -1e-9 <= share <= clock.now - busy.pop(lane) + 1e-9   # never more than it saw
            charged.append(share)
        else:
            shares.start(lane)
            busy[lane] = clock.now
    spent_busy += 1.0 if busy else 0.0
    clock.now += 1.0
    charged += [shares.end(lane) for lane in list(busy)]
    assert abs(sum(charged) - spent_busy) < 1e-6
