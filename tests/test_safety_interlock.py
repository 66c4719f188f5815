"""The safety controller's interlock, on its own and under the lane's own random event sequences:
whatever the appliance commands, the emergency releases every door, entry and exit are never both
released outside an emergency, the exit opens only for the current passage with the entry shut and
exactly one person inside, and a lost appliance, tamper or forced door leaves only the way back."""
from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers.gate import Door, GateSnapshot, LayoutKind
from drivers.gate.safety.interlock import Interlock, Stance
from drivers.gate.safety.protocol import Op, Refusal
from firmware_app.lane import events as ev
from firmware_app.lane.actions import CloseDoor, OpenDoor, ReleaseDoors, SecureDoors
from tests.lane_helpers import Lane, event_catalogue
from tests.test_lane_properties import HAPPY, NAMES

BOTH = frozenset({Door.ENTRY, Door.EXIT})


def snap(open_=(), presence=0, emergency=False, tamper=False) -> GateSnapshot:
    return GateSnapshot(frozenset(open_), presence, emergency, tamper)


def scan(lock: Interlock, snapshot: GateSnapshot | None = None) -> frozenset:
    if snapshot is not None:
        lock.sense(snapshot)
    lock.applied = lock.released()
    return lock.applied


def connected(kind=LayoutKind.MANTRAP) -> Interlock:
    lock = Interlock(kind)
    lock.connect()
    scan(lock, snap())
    return lock


def test_a_clean_passage_is_never_refused():
    lock = connected()
    assert lock.command(Op.SECURE) is None
    assert lock.command(Op.OPEN, Door.ENTRY, "t1") is None and scan(lock) == {Door.ENTRY}
    scan(lock, snap({Door.ENTRY}))
    scan(lock, snap({Door.ENTRY}, presence=1))
    assert lock.command(Op.CLOSE, Door.ENTRY) is None and scan(lock) == frozenset()
    scan(lock, snap(presence=1))
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is None and scan(lock) == {Door.EXIT}
    scan(lock, snap({Door.EXIT}, presence=0))
    assert lock.command(Op.CLOSE, Door.EXIT) is None and scan(lock, snap()) == frozenset()
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.NOT_CURRENT_PASSAGE     # usable once


def test_the_exit_needs_the_current_passage_a_shut_entry_and_exactly_one_person():
    lock = connected()
    assert lock.command(Op.OPEN, Door.EXIT, None) is Refusal.NOT_CURRENT_PASSAGE
    lock.command(Op.OPEN, Door.ENTRY, "t1")
    scan(lock)
    scan(lock, snap({Door.ENTRY}, presence=1))
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.OTHER_DOOR_OPEN
    lock.command(Op.CLOSE, Door.ENTRY)
    scan(lock, snap({Door.ENTRY}, presence=1))         # locked, but still swinging shut
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.OTHER_DOOR_OPEN
    for presence in (0, 2):
        scan(lock, snap(presence=presence))
        assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.PRESENCE
    scan(lock, snap(presence=1))
    assert lock.command(Op.OPEN, Door.EXIT, "t0") is Refusal.NOT_CURRENT_PASSAGE
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is None
    assert lock.command(Op.OPEN, Door.ENTRY, "t2") is Refusal.OTHER_DOOR_OPEN


def test_the_emergency_releases_every_door_and_nothing_springs_open_afterwards():
    lock = connected()
    lock.command(Op.OPEN, Door.ENTRY, "t1")
    assert lock.command(Op.RELEASE) is Refusal.NO_EMERGENCY
    assert scan(lock, snap(emergency=True)) == BOTH
    assert lock.command(Op.SECURE) is Refusal.EMERGENCY and lock.command(Op.RELEASE) is None
    assert scan(lock, snap()) == frozenset() and lock.commanded == set()


def test_a_lost_appliance_leaves_only_the_way_back_with_buzzer_and_light():
    lock = connected()
    lock.command(Op.OPEN, Door.ENTRY, "t1")
    scan(lock)
    scan(lock, snap({Door.ENTRY}, presence=1))
    lock.disconnect()
    assert lock.stance() is Stance.APPLIANCE_LOST and scan(lock) == {Door.ENTRY}
    assert lock.outputs() == (True, True)
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.APPLIANCE_LOST
    assert scan(lock, snap(presence=0)) == frozenset() and lock.outputs() == (True, False)
    lock.connect()
    assert lock.outputs() == (False, False) and scan(lock) == frozenset()     # commands were forgotten


def test_a_reconnecting_appliance_takes_over_the_way_back_as_it_is():
    lock = connected()
    scan(lock, snap(presence=1))
    lock.disconnect()
    assert scan(lock) == {Door.ENTRY}
    lock.connect()
    assert scan(lock) == {Door.ENTRY} and lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.OTHER_DOOR_OPEN
    assert lock.command(Op.SECURE) is None and scan(lock) == frozenset()     # until it decides otherwise


def test_a_forced_door_or_tamper_secures_and_reports_until_shut():
    lock = connected()
    notices = lock.sense(snap({Door.EXIT}))
    assert [n.kind for n in notices][:2] == ["door_opened", "door_forced"] and lock.stance() is Stance.FAULT
    assert scan(lock) == frozenset() and lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.FAULT
    scan(lock, snap({Door.EXIT}, presence=1))
    assert scan(lock) == {Door.ENTRY}                  # somebody came in through it: the way back
    scan(lock, snap(presence=0))
    assert lock.stance() is Stance.NONE and scan(lock) == frozenset()
    scan(lock, snap(tamper=True))
    assert lock.stance() is Stance.FAULT and lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.FAULT
    assert lock.command(Op.OPEN, Door.ENTRY) is None and scan(lock) == frozenset()    # the lane's retreat:
    assert scan(lock, snap(tamper=True)) == frozenset()     # accepted; the stance decides while it holds
    assert scan(lock, snap(tamper=False)) == {Door.ENTRY}     # then the appliance's retreat stands


def test_nobody_inside_is_locked_in_when_the_emergency_ends():
    lock = connected()
    scan(lock, snap({Door.ENTRY, Door.EXIT}, presence=1, emergency=True))
    assert scan(lock, snap({Door.ENTRY, Door.EXIT}, presence=1)) == {Door.ENTRY}
    assert lock.command(Op.OPEN, Door.ENTRY) is None          # the lane's retreat, exit still swinging shut


def test_a_barrier_has_one_door_and_no_exit():
    lock = connected(LayoutKind.BARRIER)
    assert lock.command(Op.OPEN, Door.EXIT, "t1") is Refusal.NO_SUCH_DOOR
    assert lock.command(Op.OPEN, Door.ENTRY, "t1") is None and scan(lock) == {Door.ENTRY}
    lock.disconnect()
    scan(lock, snap(presence=1))
    assert scan(lock) == frozenset()                   # nobody can be trapped by a barrier


# --- properties -------------------------------------------------------------------------------
class Checked:
    """An interlock plus what the test saw it accept, to check the rules after every step."""

    def __init__(self, kind: LayoutKind):
        self.lock = Interlock(kind)
        self.exit_granted = False       # an exit open accepted under the rules, not revoked since

    def command(self, op, door=None, passage=None, on=None):
        before = (self.lock.passage, self.lock.inputs, set(self.lock.commanded))
        refusal = self.lock.command(op, door, passage, on)
        if op is Op.OPEN and door is Door.EXIT and refusal is None and self.lock.kind is LayoutKind.MANTRAP:
            current, inputs, commanded = before
            assert passage is not None and passage == current
            assert inputs.presence == 1 and Door.ENTRY not in inputs.doors_open and Door.ENTRY not in commanded
            self.exit_granted = True
        return refusal

    def scan(self, snapshot=None):
        released = scan(self.lock, snapshot)
        if Door.EXIT not in self.lock.commanded:
            self.exit_granted = False
        self.check(released)

    def check(self, released) -> None:
        lock, inputs = self.lock, self.lock.inputs
        if inputs.emergency:
            assert released == frozenset(lock.doors)
            return
        assert not (released >= BOTH)
        held = inputs.tamper or bool(lock.forced) or not lock.connected     # the stance, seen from outside
        if held:
            assert released <= {Door.ENTRY}
            assert (Door.ENTRY in released) == (lock.kind is LayoutKind.MANTRAP and inputs.presence > 0)
        if Door.EXIT in released:
            assert self.exit_granted and not held
        assert lock.outputs()[0] or not lock.lost


# weighted towards passages (open entry t1, close it, open exit t1) so the exit rules are exercised
doors = st.sampled_from([Door.ENTRY, Door.EXIT, Door.ENTRY, Door.EXIT, None])
passages = st.sampled_from(["t1", "t1", "t1", "t2", None])
ops = st.sampled_from([Op.OPEN] * 4 + [Op.CLOSE] * 2 + list(Op))
commands = st.tuples(st.just("cmd"), ops, doors, passages, st.booleans())
rarely = st.sampled_from([False] * 5 + [True])
inputs = st.tuples(st.just("in"), st.sets(st.sampled_from([Door.ENTRY, Door.EXIT]), max_size=2).map(
    lambda s: s), st.sampled_from([0, 1, 1, 1, 2, 3]), rarely, rarely)
links = st.tuples(st.just("link"), st.sampled_from([True, True, False]))
# a whole attempt at a passage: entry opened for one passage, shut with `presence` inside, exit asked
# for another (or the same) passage
attempts = st.tuples(st.just("passage"), passages, passages, st.sampled_from([0, 1, 1, 2]))
steps = st.lists(st.one_of(commands, commands, inputs, attempts, links), max_size=60)


def _attempt(checked: Checked, entry_passage, exit_passage, presence: int) -> None:
    checked.command(Op.OPEN, Door.ENTRY, entry_passage)
    checked.scan()
    checked.command(Op.CLOSE, Door.ENTRY)
    checked.scan(snap(presence=presence))
    checked.command(Op.OPEN, Door.EXIT, exit_passage)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(LayoutKind)), steps)
def test_random_commands_and_inputs_never_break_the_interlock(kind, sequence):
    checked = Checked(kind)
    checked.lock.connect()
    for step in sequence:
        if step[0] == "cmd":
            checked.command(step[1], step[2], step[3], step[4])
        elif step[0] == "passage":
            _attempt(checked, *step[1:])
        elif step[0] == "in":
            checked.scan(snap(step[1] if kind is LayoutKind.MANTRAP else step[1] - {Door.EXIT}, *step[2:]))
            continue
        else:
            checked.lock.connect() if step[1] else checked.lock.disconnect()
        checked.scan()


# The lane's own random sequences (tests/test_lane_properties.py) drive the interlock: the lane's
# door actions become commands, its sensor events become the inputs the controller reads.
def _sensed(before: GateSnapshot, event) -> GateSnapshot:
    open_, presence, emergency, tamper = set(before.doors_open), before.presence, before.emergency, before.tamper
    if isinstance(event, ev.DoorOpened):
        open_.add(event.door)
    elif isinstance(event, ev.DoorClosed):
        open_.discard(event.door)
    elif isinstance(event, ev.PresenceChanged):
        presence = event.count
    elif isinstance(event, (ev.EmergencyOn, ev.EmergencyOff)):
        emergency = isinstance(event, ev.EmergencyOn)
    elif isinstance(event, (ev.TamperOn, ev.TamperOff)):
        tamper = isinstance(event, ev.TamperOn)
    return GateSnapshot(frozenset(open_), presence, emergency, tamper)


def _command(checked: Checked, action) -> None:
    if isinstance(action, OpenDoor):
        checked.command(Op.OPEN, action.door, action.passage)
    elif isinstance(action, CloseDoor):
        checked.command(Op.CLOSE, action.door)
    elif isinstance(action, SecureDoors):
        checked.command(Op.SECURE)
    elif isinstance(action, ReleaseDoors):
        checked.command(Op.RELEASE)


names = st.one_of(st.sampled_from(NAMES), st.sampled_from(HAPPY))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(LayoutKind)), st.lists(names, max_size=60))
@example(LayoutKind.MANTRAP, ["doc_invalid", "timeout_state", "decision_pass", "presence_1"])   # walks out behind
def test_the_lanes_random_sequences_through_the_interlock_keep_the_door_rules(kind, sequence):
    lane, checked = Lane(layout=kind), Checked(kind)
    checked.lock.connect()
    for name in sequence:
        event = event_catalogue(lane)[name]
        checked.scan(_sensed(checked.lock.inputs, event))
        for action in lane.send(event):
            _command(checked, action)
        checked.scan()
        released = checked.lock.applied
        if Door.EXIT in released and not checked.lock.inputs.emergency:     # only into the lane's PASS passage
            # the passage at the front, or (mantrap) the one walking out behind the lane while the
            # next traveller is checked (lane/leaving.py), which is then the only one the exit serves
            txn = lane.data.leaving or lane.data.txn
            assert txn is not None and txn.decision is not None and txn.decision.passed
            assert checked.lock.passage == txn.txn_id
