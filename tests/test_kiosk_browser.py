"""The kiosk page in headless Debian Chromium, driven through whole simulated transactions.

Screenshots are kept in tests/artifacts/kiosk/ (git-ignored) for a human to look at; the browser
and the page helpers are in kiosk_browser_helpers.py.
"""
from __future__ import annotations

import re

import pytest

from firmware_app.kiosk.assets import load_translation
from firmware_app.kiosk.demo import pass_transaction, refer_transaction
from firmware_app.kiosk.inputs import InputKind
from firmware_app.kiosk.server import KioskServer
from firmware_app.kiosk.view import DocumentKind, Instruction, KioskView, Screen
from kiosk_browser_helpers import Page

pytest.importorskip("selenium.webdriver", reason="selenium not installed (dev extra)")
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

TEXTS = {lang: load_translation(lang) for lang in ("en", "fr", "es", "ar", "ru", "zh")}


@pytest.fixture
def page(kiosk_browser):
    page = Page(kiosk_browser)
    yield page
    page.close()


def expect_screen(page: Page, lang: str, screen: Screen, instruction: str | None = None) -> None:
    texts = TEXTS[lang]
    assert page.attr("html", "lang") == lang
    assert page.attr("body", "data-screen") == screen.value
    assert page.text("title") == texts[f"title.{screen.value}"]
    assert page.text("body") == texts[f"body.{screen.value}"]
    assert page.text("instruction") == (texts[f"instruction.{instruction}"] if instruction else "")


def play_through(page: Page, views: list[KioskView], name: str) -> list[str]:
    languages = []
    for number, view in enumerate(views):
        page.show(view)
        languages.append(page.attr("html", "lang"))
        assert page.fits_the_screen(), f"{view.screen.value} needs scrolling"
        page.shot(f"{name}-{number:02d}-{view.screen.value}")
    return languages


def test_pass_transaction_in_english(page):
    views = pass_transaction("GBR")
    assert play_through(page, views[:-1], "pass") == ["en"] * (len(views) - 1)
    expect_screen(page, "en", Screen.PLEASE_PROCEED, Instruction.TAKE_YOUR_DOCUMENT.value)
    assert page.text("step-text") == "Step 5 of 5"
    assert page.attr("#pictogram-use", "href") == "#pict-proceed"
    assert page.text("announcer").startswith("Please go through")
    assert page.driver.find_element(By.ID, "timer").is_displayed() is False


def test_face_instruction_progress_and_countdown(page):
    page.show(KioskView(Screen.LOOK_AT_CAMERA, 3, 5, Instruction.COME_CLOSER.value, "GBR", seconds_left=20.0))
    expect_screen(page, "en", Screen.LOOK_AT_CAMERA, "come_closer")
    assert page.text("step-text") == "Step 3 of 5"
    assert page.attr("#step-bar", "aria-valuenow") == "3"
    assert page.text("seconds-left") in ("20 s left", "19 s left")
    page.shot("face-come-closer")


def test_refer_is_neutral_in_the_documents_language_and_welcome_resets(page):
    views = refer_transaction("FRA")
    languages = play_through(page, views[:-1], "refer")
    assert languages == ["en", "en", "fr", "fr", "fr", "fr"]
    expect_screen(page, "fr", Screen.SEE_OFFICER, Instruction.TAKE_YOUR_DOCUMENT.value)
    assert page.attr("body", "data-screen") == "see_officer"
    main_text = page.driver.find_element(By.TAG_NAME, "main").text
    texts = TEXTS["fr"]
    assert main_text.split("\n") == [texts["ui.step"].format(step=5, total=5), texts["title.see_officer"],
                                     texts["body.see_officer"], texts["instruction.take_your_document"]]
    page.show(views[-1])
    expect_screen(page, "en", Screen.WELCOME)


def test_the_traveller_switches_language_by_tap_and_by_keyboard(page):
    page.show(KioskView(Screen.WELCOME))
    page.driver.find_element(By.ID, "lang-es").click()
    page.wait(lambda: page.attr("html", "lang") == "es")
    expect_screen(page, "es", Screen.WELCOME)
    page.shot("language-es")
    page.driver.find_element(By.ID, "lang-ru").send_keys(Keys.ENTER)
    page.wait(lambda: page.attr("html", "lang") == "ru")
    assert page.attr("#lang-ru", "aria-pressed") == "true" and page.attr("#lang-es", "aria-pressed") == "false"
    page.show(KioskView(Screen.READING_CHIP, 2, 5, language_hint="CHN"))  # the choice beats nationality
    expect_screen(page, "ru", Screen.READING_CHIP)
    assert [i.language for i in page.lane.inputs if i.kind is InputKind.LANGUAGE] == ["es", "ru"]
    page.driver.find_element(By.ID, "lang-zh").click()
    page.wait(lambda: page.attr("html", "lang") == "zh")
    page.shot("language-zh")


def test_arabic_document_turns_the_page_right_to_left(page):
    page.show(KioskView(Screen.WELCOME))
    page.show(KioskView(Screen.LOOK_AT_CAMERA, 3, 5, Instruction.REMOVE_GLASSES.value, "EGY", seconds_left=20.0))
    expect_screen(page, "ar", Screen.LOOK_AT_CAMERA, "remove_glasses")
    assert page.attr("html", "dir") == "rtl"
    width = page.driver.execute_script("return window.innerWidth")
    assistance = page.driver.find_element(By.ID, "assistance").rect
    assert assistance["x"] + assistance["width"] < width / 2  # the footer mirrored: the button sits left
    page.shot("arabic-rtl")
    page.show(KioskView(Screen.WELCOME))
    assert page.attr("html", "dir") == "ltr"
    assistance = page.driver.find_element(By.ID, "assistance").rect
    assert assistance["x"] > width / 2


def test_assistance_and_more_time_go_to_the_lane_and_come_back(page):
    page.show(KioskView(Screen.LOOK_AT_CAMERA, 3, 5, language_hint="GBR", seconds_left=8.0))
    assert "urgent" in page.attr("#timer", "class")
    page.wait(lambda: page.text("alert-announcer") == TEXTS["en"]["ui.time_running_out"])
    page.driver.find_element(By.ID, "more-time").click()
    page.wait(lambda: page.text("seconds-left") in ("30 s left", "29 s left"))
    assert "urgent" not in page.attr("#timer", "class")
    page.driver.find_element(By.ID, "assistance").click()
    page.wait(lambda: page.text("assistance-status") == TEXTS["en"]["ui.assistance_called"])
    assert [i.kind for i in page.lane.inputs] == [InputKind.MORE_TIME, InputKind.ASSISTANCE]
    page.shot("assistance-called")


def test_a_lost_link_hides_stale_screens_behind_out_of_service(page):
    page.show(KioskView(Screen.PLEASE_PROCEED, 5, 5))
    port = page.kiosk.port
    page.kiosk.stop()
    page.wait(lambda: page.driver.find_element(By.ID, "offline").is_displayed(), timeout=8)
    assert page.text("offline-text") == TEXTS["en"]["ui.connection_lost"]
    page.shot("link-lost")
    # gate-app restarts on the same port (the per-boot token kept in kiosk.token_file): the page
    # reconnects by itself and shows the new state.
    page.kiosk = KioskServer(page.lane.on_input, port=port, token=page.kiosk.token)
    page.kiosk.start()
    page.kiosk.show(KioskView(Screen.WELCOME))
    page.wait(lambda: not page.driver.find_element(By.ID, "offline").is_displayed(), timeout=8)
    expect_screen(page, "en", Screen.WELCOME)


_COLOURS_JS = """
const background = (el) => {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
};
return [...document.querySelectorAll('h1, p, button')]
  .filter((el) => el.offsetParent !== null && el.textContent.trim() && !el.closest('.visually-hidden'))
  .map((el) => ({id: el.id || el.className, fg: getComputedStyle(el).color, bg: background(el),
                 w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height,
                 button: el.tagName === 'BUTTON'}));
"""


def _luminance(css: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    lighter, darker = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_screen_is_high_contrast_with_large_targets_and_fits(page, lang):
    for screen in Screen:
        page.show(KioskView(screen, 2, 5, Instruction.HOLD_STILL.value, seconds_left=9.0))
        if page.attr("html", "lang") != lang:  # WELCOME and CLOSED reset the language: choose again
            page.driver.find_element(By.ID, f"lang-{lang}").click()
            page.wait(lambda: page.attr("html", "lang") == lang)
        assert page.fits_the_screen(), screen
        for item in page.driver.execute_script(_COLOURS_JS):
            ratio = contrast(item["fg"], item["bg"])
            assert ratio >= 7.0, f"{screen.value} {item['id']}: contrast {ratio:.1f} (WCAG AAA needs 7)"
            if item["button"]:  # WCAG 2.5.5 target size, and a name for screen readers
                assert item["w"] >= 44 and item["h"] >= 44, f"{screen.value} {item['id']} too small"
    page.shot(f"all-screens-last-{lang}")


def test_the_page_reconnects_after_an_http_refusal_with_backoff(page):
    """EventSource gives up for good after an HTTP error (here the 503 of a kiosk that is stopping);
    the page opens a new stream by itself once the kiosk serves again."""
    page.show(KioskView(Screen.READING_CHIP, 2, 5))
    port, token = page.kiosk.port, page.kiosk.token
    page.kiosk.channel.close()   # streams end; the reconnect gets 503 "kiosk is stopping"
    page.wait(lambda: page.driver.find_element(By.ID, "offline").is_displayed(), timeout=8)
    page.kiosk.stop()
    page.kiosk = KioskServer(page.lane.on_input, port=port, token=token)
    page.kiosk.start()
    page.kiosk.show(KioskView(Screen.WELCOME))
    page.wait(lambda: not page.driver.find_element(By.ID, "offline").is_displayed(), timeout=15)
    expect_screen(page, "en", Screen.WELCOME)


def test_the_welcome_screen_goes_through_the_languages_until_one_is_chosen(page):
    page.show(KioskView(Screen.WELCOME))
    assert page.attr("body", "data-cycling") == "true"
    page.wait(lambda: page.attr("html", "lang") == "fr", timeout=6)   # the next offered language
    assert page.text("title") == TEXTS["fr"]["title.welcome"]
    page.driver.find_element(By.ID, "lang-ar").click()
    page.wait(lambda: page.attr("body", "data-cycling") == "false")
    expect_screen(page, "ar", Screen.WELCOME)
    assert page.attr("html", "dir") == "rtl"
    page.show(KioskView(Screen.READING_DOCUMENT, 1, 5))   # a transaction never cycles
    assert page.attr("body", "data-cycling") == "false"


@pytest.mark.parametrize("lang, nationality", [("en", "GBR"), ("fr", "FRA"), ("ru", "RUS")])
def test_screens_name_the_document_that_was_read(page, lang, nationality):
    texts = TEXTS[lang]
    page.show(KioskView(Screen.WELCOME))   # before a document: "passport or ID card"
    assert page.text("body") == TEXTS["en"]["body.welcome"] and "ID card" in page.text("body")
    page.show(KioskView(Screen.READING_CHIP, 2, 5, language_hint=nationality, document=DocumentKind.ID_CARD))
    assert page.text("title") == texts["title.reading_chip@id_card"]
    assert page.text("body") == texts["body.reading_chip@id_card"]
    page.show(KioskView(Screen.SEE_OFFICER, 5, 5, Instruction.TAKE_YOUR_DOCUMENT.value, nationality,
                        document=DocumentKind.ID_CARD))
    assert page.text("body") == texts["body.see_officer@id_card"]
    assert page.text("instruction") == texts["instruction.take_your_document@id_card"]
    page.show(KioskView(Screen.SEE_OFFICER, 5, 5, Instruction.TAKE_YOUR_DOCUMENT.value, nationality,
                        document=DocumentKind.PASSPORT))
    assert page.text("body") == texts["body.see_officer"]
    page.show(KioskView(Screen.READING_DOCUMENT, 1, 5, language_hint=nationality, document=DocumentKind.VISA))
    assert page.text("title") == texts["title.reading_document@visa"]
