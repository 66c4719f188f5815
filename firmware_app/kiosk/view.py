"""What the traveller's screen shows, as data. The lane builds a KioskView; the kiosk renders it.

A view carries no reason for a referral: SEE_OFFICER looks the same for a face mismatch and for an
alert-list hit, so nothing on screen reveals why a traveller is sent to an officer.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

from .errors import InvalidView


class Screen(str, Enum):
    WELCOME = "welcome"
    PLACE_DOCUMENT = "place_document"
    READING_DOCUMENT = "reading_document"
    READING_CHIP = "reading_chip"
    LOOK_AT_CAMERA = "look_at_camera"
    VERIFYING = "verifying"
    PLEASE_PROCEED = "please_proceed"
    PLEASE_WAIT_DOOR = "please_wait_door"
    SEE_OFFICER = "see_officer"
    REMOVE_DOCUMENT = "remove_document"
    OUT_OF_SERVICE = "out_of_service"
    EMERGENCY_EXIT = "emergency_exit"
    CLOSED = "closed"


class Instruction(str, Enum):
    """One short request to the traveller, shown under the screen's main text.

    The face-quality keys are those of firmware_app.face.quality.INSTRUCTIONS (a test keeps them
    in step); the others come from the lane (document placement, passage).
    """

    LOOK_AT_CAMERA = "look_at_camera"
    ONE_PERSON_ONLY = "one_person_only"
    STAND_IN_THE_MIDDLE = "stand_in_the_middle"
    COME_CLOSER = "come_closer"
    STEP_BACK = "step_back"
    LOOK_STRAIGHT_AHEAD = "look_straight_ahead"
    KEEP_HEAD_STRAIGHT = "keep_head_straight"
    HOLD_STILL = "hold_still"
    STEP_INTO_THE_LIGHT = "step_into_the_light"
    STEP_OUT_OF_DIRECT_LIGHT = "step_out_of_direct_light"
    REMOVE_GLASSES = "remove_glasses"
    REMOVE_HAT = "remove_hat"
    PLACE_PHOTO_PAGE_DOWN = "place_photo_page_down"
    KEEP_DOCUMENT_STILL = "keep_document_still"
    TAKE_YOUR_DOCUMENT = "take_your_document"
    WALK_THROUGH_NOW = "walk_through_now"
    WAIT_FOR_DOOR = "wait_for_door"
    TRY_AGAIN = "try_again"


class DocumentKind(str, Enum):
    """What the traveller put on the reader, so the screens name it ("your ID card", not "passport")."""

    PASSPORT = "passport"
    ID_CARD = "id_card"
    VISA = "visa"


# ICAO 9303: the document code's first letter (P passport; I, A, C identity/travel cards; V visa).
_KIND_BY_CODE = {"P": DocumentKind.PASSPORT, "I": DocumentKind.ID_CARD, "A": DocumentKind.ID_CARD,
                 "C": DocumentKind.ID_CARD, "V": DocumentKind.VISA}


def document_kind(document_code: str | None) -> DocumentKind | None:
    """The kind named by an MRZ document code; None when unknown (screens then say "passport")."""
    return _KIND_BY_CODE.get((document_code or "")[:1])


# Screens of a running transaction; the others are lane states shown without a document.
TRANSACTION_SCREENS = frozenset({
    Screen.PLACE_DOCUMENT, Screen.READING_DOCUMENT, Screen.READING_CHIP, Screen.LOOK_AT_CAMERA,
    Screen.VERIFYING, Screen.PLEASE_PROCEED, Screen.PLEASE_WAIT_DOOR, Screen.SEE_OFFICER,
    Screen.REMOVE_DOCUMENT,
})

# ICAO 9303 nationality codes are ISO 3166 alpha-3 plus a few codes padded with '<' (D<<, GBD...).
_NATIONALITY = re.compile(r"^[A-Z][A-Z<]{2}$")
MAX_STEPS = 20
MAX_SECONDS_LEFT = 3600.0


@dataclass(frozen=True)
class KioskView:
    screen: Screen
    step: int = 0
    total_steps: int = 0
    instruction: str | None = None
    language_hint: str | None = None
    assistance_called: bool = False
    seconds_left: float | None = None
    document: DocumentKind | None = None

    def __post_init__(self) -> None:
        _check_screen(self.screen)
        _check_steps(self.step, self.total_steps)
        _check_instruction(self.instruction)
        _check_language_hint(self.language_hint)
        _check_seconds_left(self.seconds_left)
        if not isinstance(self.assistance_called, bool):
            raise InvalidView("assistance_called must be a bool")
        if self.document is not None and not isinstance(self.document, DocumentKind):
            raise InvalidView("document must be a DocumentKind or None")

    def as_dict(self) -> dict:
        """The JSON-ready form pushed to the page (enum values as plain strings)."""
        return {"screen": self.screen.value, "step": self.step, "total_steps": self.total_steps,
                "instruction": None if self.instruction is None else Instruction(self.instruction).value,
                "language_hint": self.language_hint, "assistance_called": self.assistance_called,
                "seconds_left": self.seconds_left,
                "document": None if self.document is None else self.document.value}


def _check_screen(screen) -> None:
    if not isinstance(screen, Screen):
        raise InvalidView(f"screen must be a Screen, not {type(screen).__name__}")


def _check_steps(step, total) -> None:
    if type(step) is not int or type(total) is not int:
        raise InvalidView("step and total_steps must be integers")
    if not 0 <= total <= MAX_STEPS or not 0 <= step <= total:
        raise InvalidView(f"step {step} of {total} is out of range (0 <= step <= total <= {MAX_STEPS})")


def _check_instruction(instruction) -> None:
    if instruction is None:
        return
    try:
        Instruction(instruction)
    except ValueError:
        raise InvalidView(f"unknown instruction key {instruction!r}") from None


def _check_language_hint(hint) -> None:
    if hint is not None and (not isinstance(hint, str) or not _NATIONALITY.match(hint)):
        raise InvalidView("language_hint must be an ICAO 9303 nationality code (3 letters or '<')")


def _check_seconds_left(seconds) -> None:
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise InvalidView("seconds_left must be a number or None")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS_LEFT:
        raise InvalidView(f"seconds_left must be within 0..{MAX_SECONDS_LEFT:g}")
