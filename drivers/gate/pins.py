"""Choose gpiozero's pin factory by name, from config. Never a silent fallback.

gpiozero's own default probes the Pi's libraries and falls back to others; a gate must not guess
which pins it drives, so the factory is always named and built here, and the hardware library is
imported only when its name is chosen.
"""
from __future__ import annotations

from drivers.errors import DriverUnavailable, UnknownBackend


class UnknownPinFactory(UnknownBackend, DriverUnavailable):
    """The configured pin factory name is not one this build knows."""


def _mock():
    from gpiozero.pins.mock import MockFactory
    return MockFactory()


def _lgpio():
    from gpiozero.pins.lgpio import LGPIOFactory
    return LGPIOFactory()


def _rpigpio():
    from gpiozero.pins.rpigpio import RPiGPIOFactory
    return RPiGPIOFactory()


FACTORIES = {"mock": _mock, "lgpio": _lgpio, "rpigpio": _rpigpio}


def make_pin_factory(name: str):
    """A new pin factory for `name` ("mock", "lgpio", "rpigpio"); DriverUnavailable if it cannot load."""
    try:
        build = FACTORIES[name]
    except (KeyError, TypeError):
        raise UnknownPinFactory(f"unknown pin factory {name!r}; known: {', '.join(FACTORIES)}") from None
    try:
        return build()
    except ImportError as exc:
        raise DriverUnavailable(f"pin factory {name!r} is not installed: {exc.name or exc}") from exc
    except Exception as exc:  # gpiozero raises assorted errors off-target (no /dev/gpiochip, no Pi)
        raise DriverUnavailable(f"pin factory {name!r} cannot start here: {type(exc).__name__}") from exc
