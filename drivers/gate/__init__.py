"""Gate hardware: door relays, door sensors, presence, emergency loop, tamper, light, buzzer.

    from drivers.gate import GateDriver, GateLayout, make_pin_factory
    gate = GateDriver(layout, make_pin_factory(cfg.gate.pin_factory), on_event=queue.put)
    gate.open_door(Door.ENTRY); gate.secure_all(); gate.snapshot(); gate.close()

The pin factory is named in config ("mock" in simulation and tests, "lgpio"/"rpigpio" on a Pi);
gpiozero is imported only when a driver or factory is built, so `layout` and `events` are safe
to import from pure code. `sim.GateSimulator` is the test bench's gate on MockFactory pins: doors
that follow their relays, people walking through, the emergency and tamper loops.
"""
from drivers.errors import UnknownPinFactory
from drivers.gate.pins import make_pin_factory
from drivers.gate_options import PinFactory

from .events import GateEvent, GateEventKind, GateSnapshot
from .layout import Door, DoorPins, FailMode, GateLayout, LayoutKind, doors_of


def __getattr__(name: str):
    if name == "GateDriver":    # lazy: importing drivers.gate must not import gpiozero
        from .driver import GateDriver
        return GateDriver
    raise AttributeError(name)


__all__ = [
    "Door",
    "DoorPins",
    "FailMode",
    "GateDriver",
    "GateEvent",
    "GateEventKind",
    "GateLayout",
    "GateSnapshot",
    "LayoutKind",
    "PinFactory",
    "UnknownPinFactory",
    "doors_of",
    "make_pin_factory",
]
