"""systemd/kiosk-browser.service points Chromium in kiosk mode at the loopback page."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from firmware_app.config.model import KioskSection

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "kiosk-browser.service"


def unit_entries(text: str) -> dict[str, list[str]]:
    """key -> values (systemd allows repeats), with backslash continuations joined."""
    entries: dict[str, list[str]] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            entries.setdefault(key, []).append(value)
    return entries


def test_chromium_runs_in_kiosk_mode_on_the_configured_loopback_page():
    entries = unit_entries(UNIT.read_text())
    url = dict(v.split("=", 1) for v in entries["Environment"])["KIOSK_URL"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1", KioskSection().port)
    command = entries["ExecStart"][0].split()
    assert command[0] == "/usr/bin/cage" and "/usr/bin/chromium" in command
    assert {"--kiosk", "--incognito", "--no-first-run", "${KIOSK_URL}"} <= set(command)


def test_the_browser_waits_for_the_page_and_always_restarts():
    entries = unit_entries(UNIT.read_text())
    assert "gatectl kiosk wait" in entries["ExecStartPre"][0]
    assert entries["Restart"] == ["always"] and entries["User"] == ["kiosk"]
