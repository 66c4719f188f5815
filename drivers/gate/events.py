"""What the gate's inputs report, as plain immutable values (the lane translates them)."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from .layout import Door


class GateEventKind(str, enum.Enum):
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    PRESENCE = "presence"           # count of occupied presence zones
    EMERGENCY_ON = "emergency_on"   # the normally-closed loop opened (or was cut)
    EMERGENCY_OFF = "emergency_off"
    TAMPER_ON = "tamper_on"
    TAMPER_OFF = "tamper_off"
    LINK_DOWN = "link_down"         # a remote gate backend (the safety controller) is unreachable
    LINK_UP = "link_up"


@dataclass(frozen=True)
class GateEvent:
    kind: GateEventKind
    door: Door | None = None
    count: int | None = None


@dataclass(frozen=True)
class GateSnapshot:
    """The inputs as read now: what the lane needs at start."""
    doors_open: frozenset[Door]
    presence: int
    emergency: bool
    tamper: bool
