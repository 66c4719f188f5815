"""The officer console in headless Debian Chromium over HTTPS: sign in, the page updates by itself
when the lane asks for a review, shows the evidence and both faces, passes axe-core (no serious
or critical issue), and an ACCEPT reaches the lane. The browser is the kiosk tests' session one.
"""
from __future__ import annotations

import numpy as np
import pytest

from firmware_app.face.images import encode_jpeg
from firmware_app.lane.events import OfficerDecision, OfficerVerdict
from firmware_app.officer import ImageKind
from firmware_app.officer.sessions import COOKIE
from firmware_app.policy import Evidence
from kiosk_browser_helpers import ARTIFACTS, AXE_RUN_JS, axe_source
from tests.lane_helpers import PASS, good_chip, good_face, mrz
from tests.officer_helpers import OFFICER, PASSWORD, console_bench

pytest.importorskip("selenium.webdriver", reason="selenium not installed (dev extra)")
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

IMAGES = {ImageKind.PORTRAIT: encode_jpeg(np.full((400, 320, 3), (90, 120, 160), np.uint8)),
          ImageKind.LIVE: encode_jpeg(np.full((480, 640, 3), (60, 90, 60), np.uint8))}


@pytest.fixture
def browser(kiosk_browser):
    # the test CA is not in Chromium's store; the certificate itself is checked by the unit tests
    kiosk_browser.execute_cdp_cmd("Security.setIgnoreCertificateErrors", {"ignore": True})
    kiosk_browser.delete_all_cookies()
    yield kiosk_browser
    kiosk_browser.delete_all_cookies()
    kiosk_browser.execute_cdp_cmd("Security.setIgnoreCertificateErrors", {"ignore": False})


@pytest.fixture
def bench(tmp_path):
    bench = console_bench(tmp_path, images=lambda txn_id, kind: IMAGES[kind])
    yield bench
    bench.close()


def wait(driver, condition, timeout: float = 8.0):
    # the page reloads itself when the review changes: an element may go stale under us
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())


def axe_serious(driver, source: str) -> list[str]:
    if not driver.execute_script("return typeof axe !== 'undefined'"):
        driver.execute_script(source)
    return driver.execute_async_script(AXE_RUN_JS)


def heading(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "main h2").text


def test_an_officer_signs_in_sees_the_evidence_and_accepts(browser, bench):
    axe = axe_source()
    browser.get(bench.console.url)
    wait(browser, lambda: browser.find_elements(By.ID, "password"))
    assert axe_serious(browser, axe) == [], "login page"
    browser.find_element(By.ID, "name").send_keys(OFFICER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "main h2")
         and heading(browser) == "No traveller waiting")
    cookie = next(c for c in browser.get_cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

    bench.desk.request_review("T-42", PASS, Evidence(mrz(), good_chip(), good_face()))
    wait(browser, lambda: heading(browser).startswith("Traveller waiting"))     # the page reloaded itself
    wait(browser, lambda: browser.execute_script(
        "const i = document.querySelectorAll('.faces img'); return i.length === 2 && "
        "[...i].every((e) => e.complete && e.naturalWidth > 0)"))
    images = browser.find_elements(By.CSS_SELECTOR, ".faces img")
    sizes = [browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", i)
             for i in images]
    assert sizes == [[320, 400], [480, 360]]                # portrait and live frame, side by side
    boxes = [i.rect for i in images]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]
    text = browser.find_element(By.TAG_NAME, "main").text
    assert mrz().document_number in text and "PASS" in text and "Passive authentication" in text
    browser.save_screenshot(str(ARTIFACTS / "officer-console-review.png"))
    assert axe_serious(browser, axe) == [], "review page"

    browser.find_element(By.CSS_SELECTOR, "button.accept").click()
    wait(browser, lambda: "You answered ACCEPT for transaction T-42" in browser.find_element(By.TAG_NAME, "main").text)
    assert bench.submitted == [OfficerDecision("T-42", OfficerVerdict.ACCEPT, OFFICER)]
    assert heading(browser) == "No traveller waiting"
