"""The gate's option enums: the one definition the gate driver and the `[gate]` config section both use.

Import-free and outside drivers/gate on purpose: importing a submodule runs its package's `__init__`,
and the config model must name these options without loading the gate driver.
"""
from __future__ import annotations

import enum


class PinFactory(str, enum.Enum):
    """gpiozero pin factory, always named (drivers/gate/pins.py builds it; never a guessed default)."""

    MOCK = "mock"           # gpiozero's MockFactory: simulation and tests
    LGPIO = "lgpio"         # Pi, /dev/gpiochip*
    RPIGPIO = "rpigpio"     # Pi, /dev/gpiomem


class LayoutKind(str, enum.Enum):
    BARRIER = "barrier"     # one barrier/flap: opens for the traveller, closes behind
    MANTRAP = "mantrap"     # entry + exit doors with a space between: one person at a time


class FailMode(str, enum.Enum):
    """What a door does without power: the relay's de-energised state decides it."""
    FAIL_SECURE = "fail_secure"     # relay energised = unlocked; power loss keeps it locked
    FAIL_SAFE = "fail_safe"         # relay energised = locked (maglock); power loss releases it
