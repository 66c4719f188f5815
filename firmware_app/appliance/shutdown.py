"""Stopping the appliance safely: the never-trapped stance at shutdown, and stop steps that go on
past a broken part (the doors come first). Used by core.Appliance.stop()."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from drivers.gate.layout import Door, LayoutKind
from firmware_app.lane.actions import AlarmKind
from firmware_app.lane.supervision import safe_stance

log = logging.getLogger("gate.app")


class Idle:
    """A part that was not opened (reader, presence watch, gate simulator): closing it does nothing."""

    def close(self) -> None:
        pass

    def stop(self) -> None:
        pass


def shutdown_stance(gate, layout: LayoutKind, alarm: Callable[[AlarmKind, str], object]) -> frozenset:
    """The lane's never-trapped rule at shutdown too: exit locked, entry left released while
    somebody is sensed inside a mantrap (or the sensors cannot be read); every door released in
    an emergency. Recorded as an alarm (`alarm`) before the BMIS side closes."""
    released = safe_stance(gate, layout)
    if released:
        inside = layout is LayoutKind.MANTRAP and released == {Door.ENTRY}   # else: the emergency
        why = "somebody may be inside the lane" if inside else "emergency input active"
        detail = f"shutdown: {door_names(released)} left released ({why}); other doors locked"
        log.warning("%s; after the process ends each door rests in its fail mode", detail)
        kind = AlarmKind.PERSON_INSIDE if inside else AlarmKind.EMERGENCY
        quietly(lambda: alarm(kind, detail))
    return released


def door_names(doors: Iterable[Door]) -> str:
    return ", ".join(sorted(door.value for door in doors))


def quietly(action) -> None:
    try:
        action()
    except Exception as exc:  # stopping must go on past a broken part; the doors come first
        log.error("stop step failed: %s", type(exc).__name__)
