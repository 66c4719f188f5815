"""Gate layout as data: which doors, which inputs, on which pins. No hardware import here."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

# The options live in an import-free module so the config model can share them; re-exported here.
from drivers.gate_options import FailMode as FailMode
from drivers.gate_options import LayoutKind as LayoutKind


class Door(str, enum.Enum):
    ENTRY = "entry"     # the only door of a barrier layout
    EXIT = "exit"


def doors_of(kind: LayoutKind) -> tuple[Door, ...]:
    return (Door.ENTRY,) if kind is LayoutKind.BARRIER else (Door.ENTRY, Door.EXIT)


@dataclass(frozen=True)
class DoorPins:
    """`relay_active_high`: the relay board energises its relay when the pin is high. Many boards
    are active low; the wrong value releases a fail-secure door at start, so a real config must
    say it (checked with the technician watching the door: `gatectl gate check --pulse DOOR`)."""
    relay: int
    closed_sensor: int          # input active when the door is closed (and locked)
    fail_mode: FailMode = FailMode.FAIL_SECURE
    relay_active_high: bool = True

    def release_level_high(self) -> bool:
        """The pin level that releases the door: energise for fail-secure, de-energise for fail-safe."""
        energise = self.fail_mode is FailMode.FAIL_SECURE
        return self.relay_active_high == energise

    def rest_level_high(self) -> bool:
        """The pin level that de-energises the relay: what the door does without power."""
        return not self.relay_active_high


@dataclass(frozen=True)
class GateLayout:
    kind: LayoutKind
    doors: dict[Door, DoorPins]
    presence: tuple[int, ...]   # one input per presence zone, active when someone is there
    emergency: int              # normally-closed loop: active (closed) = normal, open = emergency
    tamper: int | None = None   # normally-closed loop too: active (closed) = normal, open or cut = tamper
    light: int | None = None
    buzzer: int | None = None
    bounce_time_s: float | None = field(default=None)
    presence_nc: tuple[int, ...] = ()   # supervised: each zone's NC contact (closed when empty), same order
    presence_grace_s: float = 0.3       # a NO/NC mismatch lasting this long is a fault (supervised.py)

    def __post_init__(self) -> None:
        wanted = set(doors_of(self.kind))
        if set(self.doors) != wanted:
            raise ValueError(f"a {self.kind.value} layout needs doors {sorted(d.value for d in wanted)}")
        if not self.presence:
            raise ValueError("at least one presence sensor is needed")
        if self.presence_nc and len(self.presence_nc) != len(self.presence):
            raise ValueError("presence_nc needs one NC contact per presence zone")
        pins = self.all_pins()
        if len(pins) != len(set(pins)):
            raise ValueError("a pin is used twice in the gate layout")

    def all_pins(self) -> list[int]:
        pins = [p for d in self.doors.values() for p in (d.relay, d.closed_sensor)]
        pins += list(self.presence) + list(self.presence_nc) + [self.emergency]
        return pins + [p for p in (self.tamper, self.light, self.buzzer) if p is not None]
