"""Translations and the choice of language: traveller first, then the document's nationality."""
from __future__ import annotations

import json
import re

import pytest

from firmware_app.config.model import KioskSection
from firmware_app.kiosk.assets import STATIC_DIR, load_assets, load_translation
from firmware_app.kiosk.errors import KioskConfigError
from firmware_app.kiosk.languages import (
    NATIONALITY_LANGUAGE,
    SUPPORTED,
    LanguageState,
    UnknownLanguage,
    language_for_nationality,
    text_direction,
)
from firmware_app.kiosk.view import Instruction, KioskView, Screen

ENGLISH = load_translation("en")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_english_has_a_text_for_every_screen_and_instruction():
    needed = {f"title.{s.value}" for s in Screen} | {f"body.{s.value}" for s in Screen}
    needed |= {f"instruction.{i.value}" for i in Instruction}
    assert needed <= set(ENGLISH)


@pytest.mark.parametrize("language", SUPPORTED)
def test_each_language_translates_every_key_with_the_same_placeholders(language):
    texts = load_translation(language)
    assert set(texts) == set(ENGLISH)
    for key, text in texts.items():
        assert text.strip(), f"{language}:{key} is empty"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(ENGLISH[key])), f"{language}:{key}"


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED if lang != "en"])
def test_translations_are_not_english_copies(language):
    texts = load_translation(language)
    same = [key for key in ENGLISH if texts[key] == ENGLISH[key]]
    assert not same


def test_config_default_languages_all_have_translations():
    section = KioskSection()
    assert set(section.languages) <= set(SUPPORTED)
    assert "/i18n/ar.json" in load_assets(tuple(section.languages))


def test_config_refuses_a_default_language_not_offered():
    with pytest.raises(ValueError):
        KioskSection(default_language="de")
    with pytest.raises(ValueError):
        KioskSection(languages=["en", "en"])


def test_missing_or_broken_translation_is_a_config_error(tmp_path):
    with pytest.raises(KioskConfigError):
        load_translation("xx", tmp_path)
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "xx.json").write_text(json.dumps({"a": 1}))
    with pytest.raises(KioskConfigError):
        load_translation("xx", tmp_path)
    (tmp_path / "i18n" / "yy.json").write_bytes(b"\xff{")
    with pytest.raises(KioskConfigError):
        load_translation("yy", tmp_path)


def test_only_arabic_is_right_to_left():
    assert [lang for lang in SUPPORTED if text_direction(lang) == "rtl"] == ["ar"]


@pytest.mark.parametrize("nationality, language", [
    ("FRA", "fr"), ("MEX", "es"), ("EGY", "ar"), ("RUS", "ru"), ("CHN", "zh"), ("GBR", "en"),
    ("D<<", "en"), ("UTO", "en"), (None, "en")])
def test_nationality_sets_the_language_or_the_default(nationality, language):
    assert language_for_nationality(nationality, SUPPORTED, "en") == language


def test_nationality_table_only_names_shipped_languages_and_valid_codes():
    assert set(NATIONALITY_LANGUAGE.values()) <= set(SUPPORTED)
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in NATIONALITY_LANGUAGE)


def test_a_language_not_offered_falls_back_to_the_default():
    assert language_for_nationality("FRA", ("en", "es"), "es") == "es"


def _transaction(state: LanguageState, nationality: str) -> list[str]:
    return [state.on_view(KioskView(Screen.WELCOME)),
            state.on_view(KioskView(Screen.READING_DOCUMENT, 1, 5)),
            state.on_view(KioskView(Screen.READING_CHIP, 2, 5, language_hint=nationality))]


def test_the_document_sets_the_language_and_welcome_resets_it():
    state = LanguageState(SUPPORTED, "en")
    assert _transaction(state, "EGY") == ["en", "en", "ar"]
    assert state.on_view(KioskView(Screen.WELCOME)) == "en"


def test_the_travellers_choice_beats_the_nationality_until_the_next_traveller():
    state = LanguageState(SUPPORTED, "en")
    state.on_view(KioskView(Screen.WELCOME))
    state.choose("ru")
    assert state.on_view(KioskView(Screen.WELCOME)) == "ru"  # the same welcome pushed again keeps it
    assert state.on_view(KioskView(Screen.READING_CHIP, 2, 5, language_hint="FRA")) == "ru"
    assert state.on_view(KioskView(Screen.SEE_OFFICER, 5, 5)) == "ru"
    assert state.on_view(KioskView(Screen.WELCOME)) == "en"


def test_following_the_nationality_can_be_switched_off():
    state = LanguageState(SUPPORTED, "es", follow_nationality=False)
    assert _transaction(state, "FRA")[-1] == "es"


def test_unknown_languages_are_refused():
    with pytest.raises(UnknownLanguage):
        LanguageState(SUPPORTED, "de")
    with pytest.raises(UnknownLanguage):
        LanguageState(SUPPORTED, "en").choose("de")


def test_static_dir_holds_only_the_shipped_page_files():
    names = sorted(p.name for p in STATIC_DIR.iterdir())
    assert names == ["app.js", "i18n", "index.html", "style.css"]
