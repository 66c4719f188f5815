"""Never trapped: somebody inside a mantrap outside a PASS passage can always step back out.

The exit (toward the controlled side) stays locked; the entry (toward the staffed side) is released
until nobody is inside, then it closes again, and an officer is alarmed. Triggers: a fault, tamper
or forced door during a passage with somebody inside or the entry open for them, and anybody sensed
inside while no passage runs (after a forced door, an emergency, a restart). A barrier has no space
to be trapped in: it is simply secured. Emergency overrides all of this (every door released).
"""
from __future__ import annotations

from drivers.gate.layout import Door, LayoutKind

from .actions import AlarmKind, ExceptionKind
from .lifecycle import settle
from .ops import Step
from .state import State, TimerKind


def mantrap(s: Step) -> bool:
    return s.data.settings.layout is LayoutKind.MANTRAP


def in_passage(s: Step) -> bool:
    return s.txn is not None and s.txn.phase is not None


def may_be_inside(s: Step) -> bool:
    """Somebody is, or may be about to be, between the doors of this passage."""
    return s.data.presence > 0 or Door.ENTRY in s.data.commanded_open


def start_retreat(s: Step, why: str) -> None:
    """Lock the exit, release the entry, alarm the officer (once per retreat)."""
    if not mantrap(s) or s.data.emergency:
        return
    first = not s.data.retreat
    s.set(retreat=True)
    s.secure_doors()                    # with retreat set: everything but the entry
    if Door.ENTRY not in s.data.commanded_open:
        s.open_door(Door.ENTRY)
    s.start_timer(TimerKind.RETREAT, s.data.settings.timeouts.retreat_s)
    if first:
        s.alarm(AlarmKind.PERSON_INSIDE, f"entry released for retreat, exit locked: {why}")
        s.exception(ExceptionKind.RETREAT, why)


def end_retreat(s: Step) -> None:
    """Nobody inside any more: close the entry; the lane settles once it is confirmed shut."""
    s.set(retreat=False)
    s.cancel_timer(TimerKind.RETREAT)
    if Door.ENTRY in s.data.commanded_open:
        s.close_door(Door.ENTRY)
    if s.data.state is State.OUT_OF_SERVICE:
        settle(s)       # a door still closing keeps it out of service until its sensor confirms


def retreat_presence(s: Step, count: int) -> bool:
    """True when the presence change ended the retreat."""
    if s.data.retreat and count == 0:
        end_retreat(s)
        return True
    return False


def retreat_timeout(s: Step) -> None:
    s.set(timers=tuple((k, t) for k, t in s.data.timers if k is not TimerKind.RETREAT))
    if not s.data.retreat:
        return
    if s.data.presence == 0:
        end_retreat(s)
        return
    # still inside: the entry stays released until they leave or an officer comes
    s.alarm(AlarmKind.TRAVELLER_LINGERING, "inside after retreat")


def check_inside(s: Step) -> None:
    """After every step: anybody inside a mantrap outside a passage gets the way back opened."""
    if s.data.retreat or s.data.emergency or not mantrap(s) or s.data.presence == 0 or in_passage(s):
        return
    if s.data.override is not None:
        return      # an officer holds the doors; the hold's end applies this rule
    start_retreat(s, f"presence {s.data.presence} outside a passage")
    if s.data.state in (State.IDLE, State.CLOSED):
        settle(s)
