"""Which screen the traveller sees for each lane situation (builds kiosk KioskView values).

A referral looks the same whatever its reason: nothing on screen reveals an alert-list hit.
"""
from __future__ import annotations

import re

from firmware_app.kiosk.view import DocumentKind, Instruction, KioskView, Screen, document_kind

from .state import Phase, State, Transaction

TOTAL_STEPS = 5
_NATIONALITY = re.compile(r"^[A-Z][A-Z<]{2}$")

_STATE_SCREENS = {
    State.IDLE: Screen.WELCOME, State.OUT_OF_SERVICE: Screen.OUT_OF_SERVICE,
    State.CLOSED: Screen.CLOSED, State.EMERGENCY: Screen.EMERGENCY_EXIT,
}
_STEP = {Screen.PLACE_DOCUMENT: 1, Screen.READING_CHIP: 2, Screen.LOOK_AT_CAMERA: 3, Screen.VERIFYING: 4,
         Screen.PLEASE_PROCEED: 5, Screen.PLEASE_WAIT_DOOR: 5, Screen.SEE_OFFICER: 5}


def _hint(txn: Transaction | None) -> str | None:
    """The document's nationality picks the default language once the MRZ is read."""
    if txn is None or txn.mrz is None:
        return None
    nationality = txn.mrz.nationality
    return nationality if _NATIONALITY.match(nationality or "") else None


def _document(txn: Transaction | None) -> DocumentKind | None:
    """The kind of document read, so the screens word it ("your ID card")."""
    return None if txn is None or txn.mrz is None else document_kind(txn.mrz.document_code)


def view(screen: Screen, txn: Transaction | None = None, instruction: Instruction | None = None) -> KioskView:
    step = _STEP.get(screen, 0)
    return KioskView(screen, step, TOTAL_STEPS if step else 0,
                     instruction.value if instruction else None, _hint(txn), document=_document(txn))


def state_view(state: State) -> KioskView:
    return view(_STATE_SCREENS.get(state, Screen.OUT_OF_SERVICE))


def document_view(txn: Transaction | None, retry: bool) -> KioskView:
    return view(Screen.PLACE_DOCUMENT, txn, Instruction.TRY_AGAIN if retry else Instruction.PLACE_PHOTO_PAGE_DOWN)


def face_view(txn: Transaction, instruction: str | None) -> KioskView:
    try:
        chosen = Instruction(instruction) if instruction else Instruction.LOOK_AT_CAMERA
    except ValueError:
        chosen = Instruction.LOOK_AT_CAMERA   # an unknown key must not break the screen
    return view(Screen.LOOK_AT_CAMERA, txn, chosen)


_PASSAGE_VIEWS = {
    Phase.ENTERING: (Screen.PLEASE_PROCEED, Instruction.WALK_THROUGH_NOW),
    Phase.ENTRY_CLOSING: (Screen.PLEASE_WAIT_DOOR, Instruction.WAIT_FOR_DOOR),
    Phase.EXITING: (Screen.PLEASE_PROCEED, Instruction.WALK_THROUGH_NOW),
    Phase.EXIT_CLOSING: (Screen.PLEASE_WAIT_DOOR, Instruction.WAIT_FOR_DOOR),
    Phase.TAILGATE_HOLD: (Screen.PLEASE_WAIT_DOOR, Instruction.ONE_PERSON_ONLY),
    Phase.ABORT_CLOSING: (Screen.SEE_OFFICER, Instruction.TAKE_YOUR_DOCUMENT),
}


def passage_view(txn: Transaction) -> KioskView:
    assert txn.phase is not None        # shown only during a passage
    screen, instruction = _PASSAGE_VIEWS[txn.phase]
    return view(screen, txn, instruction)


def refer_view(txn: Transaction | None) -> KioskView:
    return view(Screen.SEE_OFFICER, txn, Instruction.TAKE_YOUR_DOCUMENT)


def retreat_view() -> KioskView:
    """Somebody inside is let back out through the entry."""
    return view(Screen.SEE_OFFICER, None, Instruction.STEP_BACK)
