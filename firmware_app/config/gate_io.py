"""The gate section: door, presence, emergency and tamper wiring (BCM pins) and the safety controller link."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from drivers.gate_options import FailMode, LayoutKind
from drivers.gate_options import PinFactory as PinFactory

from .strict import Strict

# Spelt from the driver's LayoutKind, kept a pattern-checked string: its config error and reference
# entry stay as they were ("String should match pattern '^(barrier|mantrap)$'", type string).
_LAYOUT_PATTERN = f"^({'|'.join(kind.value for kind in LayoutKind)})$"

DoorFailMode = FailMode     # the config's name for the driver's FailMode (model.py re-exports it)

GpioPin = Annotated[int, Field(ge=0, le=53)]


class DoorPinsSection(Strict):
    relay: GpioPin
    closed_sensor: GpioPin = Field(description="contact to ground, closed when the door is shut")
    fail_mode: DoorFailMode = DoorFailMode.FAIL_SECURE
    relay_active_high: bool | None = Field(
        default=None, description="the relay board energises on a high pin; required with real pins "
                                  "(check with `gatectl gate check --pulse DOOR` watching the door)")


class GateSection(Strict):
    """BCM pin numbers. Contacts switch to ground (pull-ups on). The emergency and tamper inputs
    are normally-closed loops: an open loop or a cut wire means emergency / tamper."""

    pin_factory: PinFactory = PinFactory.MOCK
    url: str = Field(default="gpio://", pattern=r"^(gpio://|safety:///[^\x00]{1,100})$",
                     description="gpio:// drives the pins in gate-app; safety:///path/to.sock talks to "
                                 "the gate-safety controller, the only owner of the door I/O")
    heartbeat_s: float = Field(default=0.2, gt=0, le=5, description="gate-app -> controller heartbeat")
    silence_timeout_s: float = Field(default=1.0, gt=0, le=30,
                                     description="controller: no heartbeat this long = appliance lost, safe stance")
    layout: str = Field(default=LayoutKind.MANTRAP.value, pattern=_LAYOUT_PATTERN)
    entry: DoorPinsSection = DoorPinsSection(relay=17, closed_sensor=27)
    exit: DoorPinsSection = Field(default=DoorPinsSection(relay=22, closed_sensor=23),
                                  description="mantrap only; a barrier layout ignores it")
    presence: list[GpioPin] = Field(default_factory=lambda: [24], min_length=1, max_length=8)
    presence_nc: list[GpioPin] = Field(
        default_factory=list, max_length=8,
        description="supervised presence: each zone's NC contact (closed when the zone is empty), in the "
                    "order of presence; a cut or stuck sensor is then a fault instead of 'nobody inside'")
    presence_grace_s: float = Field(default=0.3, gt=0, le=5,
                                    description="a NO/NC mismatch lasting this long is a sensor fault")
    emergency: GpioPin = 25
    tamper: GpioPin | None = 5
    light: GpioPin | None = None
    buzzer: GpioPin | None = None
    bounce_time_s: float | None = Field(default=0.02, ge=0, le=1)

    @model_validator(mode="after")
    def _pins_distinct(self) -> GateSection:
        doors = [self.entry] + ([self.exit] if self.layout == "mantrap" else [])
        pins = [p for d in doors for p in (d.relay, d.closed_sensor)] + list(self.presence) + [self.emergency]
        pins += list(self.presence_nc)
        pins += [p for p in (self.tamper, self.light, self.buzzer) if p is not None]
        if len(pins) != len(set(pins)):
            raise ValueError("a GPIO pin is used twice")
        if self.pin_factory is not PinFactory.MOCK:
            unset = [name for name, door in (("entry", self.entry), ("exit", self.exit))
                     if door.relay_active_high is None and (name == "entry" or self.layout == "mantrap")]
            if unset:
                raise ValueError(f"relay_active_high must be set for real pins (door {', '.join(unset)}): "
                                 "true if a high pin energises the relay; many boards are active low")
        if self.presence_nc and len(self.presence_nc) != len(self.presence):
            raise ValueError("presence_nc needs one NC contact per presence zone, in the same order")
        if self.silence_timeout_s < 3 * self.heartbeat_s:
            raise ValueError("silence_timeout_s must be at least 3 heartbeats")
        return self
