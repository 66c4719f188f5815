"""Every kiosk screen fits the kiosk displays (800x480, 1024x600, 1280x800) in every language without
scrolling, "Call an officer" always in view, and passes axe-core without serious or critical issues.

One Chromium, one kiosk page: the viewport and the pushed state change, the page is never reloaded.
Screenshots of every screen in English, French (the longest texts) and Arabic at 800x480, and in
Arabic or English at the other sizes, go to tests/artifacts/kiosk/screens/ for a human to look at.
"""
from __future__ import annotations

import pytest

from firmware_app.kiosk.assets import load_translation
from firmware_app.kiosk.inputs import InputKind, TravellerInput
from firmware_app.kiosk.languages import SUPPORTED
from firmware_app.kiosk.view import TRANSACTION_SCREENS, DocumentKind, Instruction, KioskView, Screen
from kiosk_browser_helpers import ARTIFACTS, SIZES, Page, axe_serious, axe_source, layout, set_viewport

SHOTS = ARTIFACTS / "screens"


def longest_instruction(language: str) -> str:
    texts = load_translation(language)
    def length(i):
        return len(texts.get(f"instruction.{i.value}@id_card", texts[f"instruction.{i.value}"]))
    return max(Instruction, key=length).value


def worst_view(screen: Screen, language: str) -> KioskView:
    """The most a screen ever carries: progress, the longest instruction in that language, a
    countdown and the officer-called note (only the transaction screens have these)."""
    if screen not in TRANSACTION_SCREENS:
        return KioskView(screen)
    return KioskView(screen, 2, 5, longest_instruction(language), assistance_called=True, seconds_left=25.0,
                     document=DocumentKind.ID_CARD)   # the ID-card wording is the longer one


# WELCOME and CLOSED forget the language chosen (a new traveller): show them first, then choose.
ORDER = [Screen.WELCOME, Screen.CLOSED] + [s for s in Screen if s not in (Screen.WELCOME, Screen.CLOSED)]
# axe-core is the slow part: every screen at every size, in English and Arabic (right-to-left) at
# the smallest size and in one of them at the others (the languages differ only in their texts).
AXE_LANGUAGES = {(800, 480): ("en", "ar"), (1024, 600): ("ar",), (1280, 800): ("en",)}
SHOT_LANGUAGES = {(800, 480): ("en", "fr", "ar"), (1024, 600): ("ar",), (1280, 800): ("en",)}


def screens_in(page: Page, language: str):
    """Each screen's worst view shown in `language`, one render per screen."""
    for screen in ORDER:
        page.lane.play(worst_view(screen, language))
        if screen is Screen.WELCOME:
            page.kiosk.receive(TravellerInput(InputKind.LANGUAGE, language))
        page.wait_rendered()
        assert page.attr("html", "lang") == language
        yield screen


@pytest.fixture(scope="module")
def screens_page(kiosk_browser):
    page = Page(kiosk_browser)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    page.close()
    set_viewport(kiosk_browser, 1280, 800)


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits_in_every_language_and_passes_axe_core(screens_page, width, height):
    source = axe_source()
    set_viewport(screens_page.driver, width, height)
    failures = []
    for language in SUPPORTED:
        for screen in screens_in(screens_page, language):
            where = f"{width}x{height} {language} {screen.value}"
            result = layout(screens_page)
            failures += [f"{where}: {p}" for p in result["problems"]]
            if result["assistance"] == "hidden":
                failures.append(f"{where}: 'Call an officer' is not visible")
            if language in AXE_LANGUAGES[(width, height)]:
                failures += [f"{where}: axe {v}" for v in axe_serious(screens_page, source)]
            if language in SHOT_LANGUAGES[(width, height)]:
                screens_page.shot(f"screens/{width}x{height}-{language}-{screen.value}")
    assert not failures, "\n".join(failures[:40])
