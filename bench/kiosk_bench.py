"""Kiosk push latency: KioskServer.show() -> the view event read by N event-stream clients,
and (with chromium-driver present) show() -> the page rendered in headless Chromium.

    .venv/bin/python -m bench kiosk [--views 200] [--clients 1 4] [--no-browser]

Prints median / p95 / max in ms and the page weight in bytes. Target: a screen change reaches the
page well under 100 ms (a traveller perceives ~100 ms as immediate).
"""
from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import tempfile
import threading
import time

from firmware_app.kiosk.server import KioskServer
from firmware_app.kiosk.view import KioskView, Screen

SCREENS = [Screen.READING_DOCUMENT, Screen.READING_CHIP, Screen.LOOK_AT_CAMERA, Screen.VERIFYING]


def _view(number: int) -> KioskView:
    return KioskView(SCREENS[number % len(SCREENS)], 1 + number % 5, 5, language_hint="FRA")


class _Client(threading.Thread):
    """Reads the event stream and notes when each version arrives."""

    def __init__(self, port: int, headers: dict[str, str]):
        super().__init__(daemon=True)
        self.arrivals: dict[int, float] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", "/events", headers=headers)
        self.response = self.conn.getresponse()  # kept: dropping it would close the stream

    def run(self) -> None:
        try:
            for raw in self.response.fp:
                if raw.startswith(b"id: "):
                    self.arrivals[int(raw[4:])] = time.perf_counter()
        except OSError:
            pass  # closed at the end of the run


def _summary(latencies_ms: list[float]) -> str:
    ordered = sorted(latencies_ms)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  max {ordered[-1]:6.2f} ms"


def bench_streams(clients: int, views: int) -> str:
    kiosk = KioskServer(lambda _: None, port=0, max_clients=clients)
    kiosk.start()
    readers = [_Client(kiosk.port, kiosk.auth_headers()) for _ in range(clients)]
    for reader in readers:
        reader.start()
    time.sleep(0.2)
    sent: dict[int, float] = {}
    for number in range(views):
        sent_at = time.perf_counter()
        kiosk.show(_view(number))
        sent[kiosk.channel.latest()[0]] = sent_at
        time.sleep(0.005)  # screens change at human pace; do not measure a queue
    time.sleep(0.3)
    kiosk.stop()
    latencies = [(reader.arrivals[v] - t) * 1000 for reader in readers for v, t in sent.items() if v in reader.arrivals]
    lost = clients * views - len(latencies)
    return f"{clients} client(s), {views} views: {_summary(latencies)}  (skipped {lost})"


def bench_browser(views: int) -> str:
    from selenium import webdriver
    from selenium.webdriver.support.wait import WebDriverWait
    profile = tempfile.mkdtemp(prefix="kiosk-bench-")
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    kiosk = KioskServer(lambda _: None, port=0)
    kiosk.start()
    try:
        from firmware_app.kiosk.auth import write_launch_page
        start = f"{profile}/start.html"
        write_launch_page(start, kiosk.url, kiosk.token)
        driver.get(f"file://{start}")
        latencies = []
        for number in range(views):
            started = time.perf_counter()
            kiosk.show(_view(number))
            version = str(kiosk.channel.latest()[0])
            WebDriverWait(driver, 5, poll_frequency=0.001).until(
                lambda d: d.execute_script("return document.body.dataset.version") == version)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        kiosk.stop()
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return f"chromium render, {views} views: {_summary(latencies)}  (includes WebDriver polling)"


def page_weight() -> str:
    kiosk = KioskServer(lambda _: None, port=0)
    sizes = {path: len(asset.body) for path, asset in kiosk.assets.items()}
    page = sum(size for path, size in sizes.items() if not path.startswith("/i18n/"))
    texts = sum(size for path, size in sizes.items() if path.startswith("/i18n/"))
    return f"page weight: html+js+css {page} bytes, {len(kiosk.offered)} translations {texts} bytes"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench kiosk")
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    print(page_weight())
    for clients in args.clients:
        print(bench_streams(clients, args.views))
    if args.no_browser or not shutil.which("chromedriver"):
        print("chromium render: skipped (--no-browser or no chromedriver)")
    else:
        print(bench_browser(min(args.views, 50)))
    return 0
