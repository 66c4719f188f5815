"""Choose gpiozero's pin factory by name, from config. Never a silent fallback.

gpiozero's own default probes the Pi's libraries and falls back to others; a gate must not guess
which pins it drives, so the factory is always named and built here, and the hardware library is
imported only when its name is chosen.
"""
from __future__ import annotations

import os
import tempfile

from drivers.errors import DriverUnavailable, UnknownPinFactory
from drivers.gate_options import PinFactory


def _mock():
    from gpiozero.pins.mock import MockFactory
    return MockFactory()


def lgpio_workdir(environ=os.environ) -> str:
    """Where lgpio may write its notification files: it uses the working directory unless LG_WD
    says otherwise, and the units' working directory is read-only (ProtectSystem=strict). So:
    LG_WD if set, else systemd's RuntimeDirectory / StateDirectory, else the temp directory."""
    for name in ("LG_WD", "RUNTIME_DIRECTORY", "STATE_DIRECTORY"):
        value = environ.get(name)
        if value:
            return value.split(":")[0]
    return tempfile.gettempdir()


def _lgpio():
    os.environ["LG_WD"] = lgpio_workdir()        # read by lgpio when it loads, so set before the import
    from gpiozero.pins.lgpio import LGPIOFactory
    return LGPIOFactory()


def _rpigpio():
    from gpiozero.pins.rpigpio import RPiGPIOFactory
    return RPiGPIOFactory()


# Keyed by plain names (the config's PinFactory values): callers pass the name as text.
FACTORIES = {PinFactory.MOCK.value: _mock, PinFactory.LGPIO.value: _lgpio, PinFactory.RPIGPIO.value: _rpigpio}


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
