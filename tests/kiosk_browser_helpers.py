"""Headless Debian Chromium driving the kiosk page: one browser for the whole test session, a Page
per test (a kiosk server, the demo lane feeding it, the browser showing it), axe-core checks.

Screenshots are kept in tests/artifacts/kiosk/ (git-ignored) for a human to look at.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from firmware_app.kiosk.auth import write_launch_page
from firmware_app.kiosk.demo import DemoLane
from firmware_app.kiosk.server import KioskServer
from firmware_app.kiosk.view import KioskView

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "kiosk"
AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"   # installed by scripts/setup.sh
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,800", "--force-device-scale-factor=1", "--autoplay-policy=no-user-gesture-required"]
# The official Raspberry Pi 7-inch display, a common 7-inch kiosk panel, a 10-inch panel.
SIZES = [(800, 480), (1024, 600), (1280, 800)]


@pytest.fixture(scope="session")
def kiosk_browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (dev extra)")
    if not Path(CHROMIUM).exists() or CHROMEDRIVER is None:
        pytest.skip("Debian chromium and chromium-driver are needed (scripts/setup.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="kiosk-chromium-")
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    set_viewport(driver, 1280, 800)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver, width: int, height: int) -> None:
    """An exact kiosk-sized viewport (the window size includes browser chrome, even headless)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


class Page:
    """A kiosk server, the demo lane feeding it, and the browser showing its page."""

    def __init__(self, driver, **server_options):
        from selenium.webdriver.common.by import By
        self.by = By
        self.driver = driver
        self.lane = DemoLane(lambda view: self.kiosk.show(view))
        self.kiosk = KioskServer(self.lane.on_input, port=0, heartbeat_s=1.0, **server_options)
        self.kiosk.start()
        self.open()

    def open(self) -> None:
        """The way the kiosk browser unit starts: a private start page posts the token to /session."""
        start = Path(tempfile.mkdtemp(prefix="kiosk-start-")) / "start.html"
        write_launch_page(start, self.kiosk.url, self.kiosk.token)
        self.driver.delete_all_cookies()
        self.driver.get(start.as_uri())
        self.wait_rendered()
        shutil.rmtree(start.parent, ignore_errors=True)

    def wait(self, condition, timeout: float = 5.0):
        from selenium.webdriver.support.wait import WebDriverWait
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: condition())

    def wait_rendered(self, timeout: float = 5.0) -> None:
        """Until the page shows the newest state the server published (watched inside the page:
        one WebDriver round trip instead of one per poll)."""
        version = str(self.kiosk.channel.latest()[0])
        rendered = self.driver.execute_async_script(_WAIT_VERSION_JS, version, timeout * 1000)
        assert rendered, f"the page did not render version {version} within {timeout} s"

    def show(self, view: KioskView) -> None:
        self.lane.play(view)
        self.wait_rendered()

    def attr(self, selector: str, name: str) -> str | None:
        return self.driver.find_element(self.by.CSS_SELECTOR, selector).get_attribute(name)

    def text(self, element_id: str) -> str:
        return self.driver.find_element(self.by.ID, element_id).text

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))

    def fits_the_screen(self) -> bool:
        return self.driver.execute_script(
            "const e = document.scrollingElement; return e.scrollHeight <= innerHeight && e.scrollWidth <= innerWidth")

    def close(self) -> None:
        self.kiosk.stop()


_WAIT_VERSION_JS = """
const [version, timeoutMs, done] = arguments, until = performance.now() + timeoutMs;
const check = () => {
  if (document.body && document.body.dataset.version === version) done(true);
  else if (performance.now() > until) done(false);
  else setTimeout(check, 5);
};
check();
"""


# Every rendered element inside the viewport, nothing clipped, the three page regions apart.
LAYOUT_JS = """
const W = innerWidth, H = innerHeight, problems = [];
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
  && !el.closest('.visually-hidden, .symbols, [hidden]');
const name = (el) => el.id || (el.className && el.className.baseVal === undefined ? el.className : el.tagName);
const scroller = document.scrollingElement;
if (scroller.scrollHeight > H || scroller.scrollWidth > W) problems.push(`document scrolls ${scroller.scrollWidth}x${scroller.scrollHeight}`);
for (const el of document.body.querySelectorAll('*')) {
  if (!shown(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5)
    problems.push(`${name(el)} outside the screen: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`);
  if (el.tagName !== 'svg' && el.namespaceURI === 'http://www.w3.org/1999/xhtml'
      && (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) && getComputedStyle(el).overflow !== 'visible')
    problems.push(`${name(el)} clips its content`);
}
const box = (sel) => { const el = document.querySelector(sel); return el && shown(el) ? el.getBoundingClientRect() : null; };
const [head, main, foot] = [box('header'), box('main'), box('footer')];
for (const el of document.querySelectorAll('main *')) {
  if (!shown(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0) continue;
  if (head && r.top < head.bottom - 0.5) problems.push(`${name(el)} runs under the language bar`);
  if (foot && r.bottom > foot.top + 0.5) problems.push(`${name(el)} runs into the footer`);
}
const button = document.getElementById('assistance');
const assistance = document.body.dataset.screen === 'emergency_exit' ? 'n/a' : (shown(button) ? 'visible' : 'hidden');
return {problems, assistance};
"""


def layout(page: Page) -> dict:
    return page.driver.execute_script(LAYOUT_JS)


def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core not found at {AXE_JS}: run `make setup` (it installs axe-core from npm)")
    return AXE_JS.read_text(encoding="utf-8")


AXE_RUN_JS = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}).then(
  (r) => done(r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
                          .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)),
  (e) => done([`axe failed: ${e}`]));
"""


def axe_serious(page: Page, source: str) -> list[str]:
    """Serious and critical axe-core violations of what the page shows now."""
    if not page.driver.execute_script("return typeof axe !== 'undefined'"):
        page.driver.execute_script(source)
    return page.driver.execute_async_script(AXE_RUN_JS)
