"""Scripted transactions for demonstrations and browser tests (no lane, no devices).

DemoLane answers the traveller's inputs the way the real lane is expected to: 'more time' restarts
the countdown, 'assistance' marks the view, a language choice needs nothing from the lane.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace

from .inputs import InputKind, TravellerInput
from .view import Instruction, KioskView, Screen

TOTAL_STEPS = 5
MORE_TIME_S = 30.0


def pass_transaction(nationality: str) -> list[KioskView]:
    """Welcome to 'please go through': document, chip, face (one retry), decision, passage."""
    return [
        KioskView(Screen.WELCOME),
        KioskView(Screen.READING_DOCUMENT, 1, TOTAL_STEPS, Instruction.KEEP_DOCUMENT_STILL.value),
        KioskView(Screen.READING_CHIP, 2, TOTAL_STEPS, language_hint=nationality),
        KioskView(Screen.LOOK_AT_CAMERA, 3, TOTAL_STEPS, language_hint=nationality, seconds_left=20.0),
        KioskView(Screen.LOOK_AT_CAMERA, 3, TOTAL_STEPS, Instruction.COME_CLOSER.value, nationality, seconds_left=15.0),
        KioskView(Screen.VERIFYING, 4, TOTAL_STEPS, language_hint=nationality),
        KioskView(Screen.PLEASE_PROCEED, 5, TOTAL_STEPS, Instruction.TAKE_YOUR_DOCUMENT.value, nationality),
        KioskView(Screen.WELCOME),
    ]


def refer_transaction(nationality: str) -> list[KioskView]:
    """A referral: the screen is the same whatever the reason (mismatch, alert list, minor...)."""
    return [
        KioskView(Screen.WELCOME),
        KioskView(Screen.READING_DOCUMENT, 1, TOTAL_STEPS),
        KioskView(Screen.READING_CHIP, 2, TOTAL_STEPS, language_hint=nationality),
        KioskView(Screen.LOOK_AT_CAMERA, 3, TOTAL_STEPS, Instruction.REMOVE_GLASSES.value, nationality,
                  seconds_left=20.0),
        KioskView(Screen.VERIFYING, 4, TOTAL_STEPS, language_hint=nationality),
        KioskView(Screen.SEE_OFFICER, 5, TOTAL_STEPS, Instruction.TAKE_YOUR_DOCUMENT.value, nationality),
        KioskView(Screen.WELCOME),
    ]


class DemoLane:
    """Feeds scripted views to `show` and answers traveller inputs like a lane would."""

    def __init__(self, show: Callable[[KioskView], None]):
        self._show = show
        self._lock = threading.Lock()
        self.current: KioskView | None = None
        self.inputs: list[TravellerInput] = []

    def play(self, view: KioskView) -> None:
        with self._lock:
            self.current = view
            self._show(view)

    def play_all(self, views: Iterable[KioskView], pause: Callable[[], None]) -> None:
        for view in views:
            self.play(view)
            pause()

    def on_input(self, traveller_input: TravellerInput) -> None:
        with self._lock:
            self.inputs.append(traveller_input)
            if self.current is None:
                return
            if traveller_input.kind is InputKind.ASSISTANCE:
                self.current = replace(self.current, assistance_called=True)
            elif traveller_input.kind is InputKind.MORE_TIME and self.current.seconds_left is not None:
                self.current = replace(self.current, seconds_left=MORE_TIME_S)
            else:
                return
            self._show(self.current)
