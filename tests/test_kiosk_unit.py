"""systemd/kiosk-browser.service points Chromium in kiosk mode at the loopback page."""
from __future__ import annotations

from pathlib import Path

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


def test_chromium_runs_in_kiosk_mode_on_its_private_start_page():
    entries = unit_entries(UNIT.read_text())
    command = entries["ExecStart"][0].split()
    assert command[0] == "/usr/bin/cage" and "/usr/bin/chromium" in command
    assert {"--kiosk", "--incognito", "--no-first-run", "file://%t/kiosk-browser/start.html"} <= set(command)
    assert entries["RuntimeDirectoryMode"] == ["0700"]   # start page (token) and cookies: kiosk user only
    launch = [c for c in entries["ExecStartPre"] if "gatectl kiosk launch-page" in c]
    assert launch and "--out %t/kiosk-browser/start.html" in launch[0]


def test_gate_app_keeps_the_token_directory_across_restarts_and_may_give_it_to_kiosk():
    entries = unit_entries((UNIT.parent / "gate-app.service").read_text())
    assert entries["RuntimeDirectory"] == ["border-gate-kiosk"] and entries["RuntimeDirectoryPreserve"] == ["yes"]
    assert "kiosk" in entries["SupplementaryGroups"][0].split()
    example = Path(__file__).resolve().parents[1] / "config" / "examples" / "pi-mantrap.toml"
    from firmware_app.config import load_config
    kiosk = load_config(example).kiosk
    assert str(kiosk.token_file).startswith("/run/border-gate-kiosk/") and kiosk.token_group == "kiosk"
    assert KioskSection().token_file is None


def test_the_browser_waits_for_the_page_and_always_restarts():
    entries = unit_entries(UNIT.read_text())
    assert "gatectl kiosk wait" in entries["ExecStartPre"][0]
    assert entries["Restart"] == ["always"] and entries["User"] == ["kiosk"]
