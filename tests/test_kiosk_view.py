"""KioskView: the contract between the lane and the traveller's screen."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.face.quality import INSTRUCTIONS, QualityIssue, instruction_for
from firmware_app.kiosk.errors import InvalidView
from firmware_app.kiosk.view import DocumentKind, Instruction, KioskView, Screen, document_kind


def test_a_full_view_serialises_to_plain_json_values():
    view = KioskView(Screen.LOOK_AT_CAMERA, 3, 5, "come_closer", "D<<", True, 12.5, DocumentKind.ID_CARD)
    assert view.as_dict() == {"screen": "look_at_camera", "step": 3, "total_steps": 5,
                              "instruction": "come_closer", "language_hint": "D<<",
                              "assistance_called": True, "seconds_left": 12.5, "document": "id_card"}


@pytest.mark.parametrize("code, kind", [("P", DocumentKind.PASSPORT), ("PD", DocumentKind.PASSPORT),
                                        ("I", DocumentKind.ID_CARD), ("ID", DocumentKind.ID_CARD),
                                        ("AC", DocumentKind.ID_CARD), ("C", DocumentKind.ID_CARD),
                                        ("V", DocumentKind.VISA), ("VB", DocumentKind.VISA), ("X", None), ("", None),
                                        (None, None)])
def test_the_document_code_names_the_kind_of_document(code, kind):
    assert document_kind(code) is kind


def test_document_must_be_a_kind():
    with pytest.raises(InvalidView):
        KioskView(Screen.READING_CHIP, document="id_card")


def test_defaults_describe_a_plain_screen():
    assert KioskView(Screen.WELCOME).as_dict()["instruction"] is None


def test_views_are_immutable():
    view = KioskView(Screen.WELCOME)
    with pytest.raises(AttributeError):
        view.screen = Screen.CLOSED  # type: ignore[misc]


@pytest.mark.parametrize("issue", list(QualityIssue))
def test_every_face_quality_refusal_has_a_kiosk_instruction(issue):
    assert Instruction(instruction_for((issue,))) in Instruction


def test_face_instruction_keys_are_all_known_to_the_kiosk():
    assert {Instruction(key) for key in INSTRUCTIONS.values()} <= set(Instruction)


@pytest.mark.parametrize("kwargs", [
    {"screen": "welcome"},
    {"screen": Screen.WELCOME, "step": 3, "total_steps": 2},
    {"screen": Screen.WELCOME, "step": -1, "total_steps": 2},
    {"screen": Screen.WELCOME, "step": 1, "total_steps": 99},
    {"screen": Screen.WELCOME, "step": True, "total_steps": 2},
    {"screen": Screen.WELCOME, "instruction": "smile_please"},
    {"screen": Screen.WELCOME, "language_hint": "fr"},
    {"screen": Screen.WELCOME, "language_hint": "<<<"},
    {"screen": Screen.WELCOME, "seconds_left": -1},
    {"screen": Screen.WELCOME, "seconds_left": math.inf},
    {"screen": Screen.WELCOME, "seconds_left": math.nan},
    {"screen": Screen.WELCOME, "seconds_left": "10"},
    {"screen": Screen.WELCOME, "assistance_called": 1},
])
def test_bad_fields_are_typed_errors(kwargs):
    with pytest.raises(InvalidView):
        KioskView(**kwargs)


_anything = st.one_of(st.none(), st.booleans(), st.integers(-5, 30), st.floats(allow_nan=True),
                      st.text(max_size=6), st.sampled_from([i.value for i in Instruction]))


@settings(max_examples=200, deadline=None)
@given(screen=st.sampled_from(list(Screen)), step=_anything, total=_anything, instruction=_anything,
       hint=_anything, assistance=_anything, seconds=_anything)
def test_any_input_gives_a_valid_view_or_invalid_view(screen, step, total, instruction, hint, assistance, seconds):
    try:
        view = KioskView(screen, step, total, instruction, hint, assistance, seconds)
    except InvalidView:
        return
    data = view.as_dict()
    assert 0 <= data["step"] <= data["total_steps"]
    assert data["seconds_left"] is None or 0 <= data["seconds_left"] <= 3600
