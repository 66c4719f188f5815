"""`gatectl units drop-in`: gate-app's DeviceAllow= names exactly the configured devices, and the
unit with the drop-in still verifies cleanly and scores 2.0 or better."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.cli import main
from firmware_app.config import load_config, parse_config
from firmware_app.deploy.devices import DeviceRules, camera_rules, drop_in_text, reader_rules
from tests.test_systemd_units import MAX_EXPOSURE, exposure, with_stand_in_binaries

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
BASE = '[device]\nid = "g"\npost_id = "p"\n'
ALLOW_LINE = re.compile(r"^DeviceAllow=(\S+ rw)?$")


def allowed(text: str) -> list[str]:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("DeviceAllow=")]


def config(reader: str = "sim://", camera: str = "sim://", gate: str = "") -> object:
    return parse_config(f'{BASE}[reader]\nurl = "{reader}"\n[camera]\nurl = "{camera}"\n{gate}')


def no_chips(_pattern: str) -> list[str]:
    return []


def test_a_simulated_gate_gets_no_device_at_all():
    assert allowed(drop_in_text(load_config(ROOT / "config/default.toml"), "gate.toml")) == [""]


def test_the_pi_mantrap_example_names_its_reader_and_the_camera_classes_and_no_gpio():
    text = drop_in_text(load_config(ROOT / "config/examples/pi-mantrap.toml"), "gate.toml", find=no_chips)
    assert allowed(text) == ["", "/dev/serial/by-id/usb-passport-reader-if00 rw", "char-video4linux rw",
                             "char-media rw", "char-dma_heap rw"]   # the doors belong to gate-safety


@pytest.mark.parametrize(("reader", "camera", "expected"), [
    ("/dev/ttyACM0", "usb://2", ["/dev/ttyACM0 rw", "/dev/video2 rw"]),
    ("spy:///dev/ttyUSB1?file=/tmp/trace", "v4l2:///dev/v4l/by-id/usb-cam-video-index0",
     ["/dev/ttyUSB1 rw", "/dev/v4l/by-id/usb-cam-video-index0 rw"]),
    ("hwgrep://0403:6001", "file:///x.jpg", ["char-ttyACM rw", "char-ttyUSB rw"]),
    ("socket://10.0.0.5:7000", "sim://", []),
])
def test_reader_and_camera_urls(reader, camera, expected):
    assert allowed(drop_in_text(config(reader, camera), "gate.toml"))[1:] == expected


def test_gpio_pins_in_gate_app_allow_the_chips_present_or_gpiomem():
    lgpio = config(gate='[gate]\nurl = "gpio://"\npin_factory = "lgpio"\n'
                        'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
                        'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }\n')
    chips = lambda pattern: ["/dev/gpiochip4", "/dev/gpiochip0"]  # noqa: E731
    assert allowed(drop_in_text(lgpio, "g", find=chips))[1:] == ["/dev/gpiochip0 rw", "/dev/gpiochip4 rw"]
    assert allowed(drop_in_text(lgpio, "g", find=no_chips))[1:] == ["/dev/gpiochip0 rw"]
    rpigpio = config(gate='[gate]\nurl = "gpio://"\npin_factory = "rpigpio"\n'
                          'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
                          'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }\n')
    assert allowed(drop_in_text(rpigpio, "g"))[1:] == ["/dev/gpiomem rw"]


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80), st.sampled_from(["", "/dev/", "spy:///dev/", "alt:///dev/", "v4l2:///dev/"]))
def test_no_device_url_can_smuggle_a_line_into_the_drop_in(text, prefix):
    rules = DeviceRules()
    try:
        reader_rules(prefix + text, rules)
        camera_rules(prefix + text, rules)
    except ValueError:
        return
    assert all(ALLOW_LINE.match(f"DeviceAllow={entry}") for entry in rules.allow)


def test_a_hostile_device_path_is_refused_by_the_cli(tmp_path, capsys):
    cfg = tmp_path / "gate.toml"
    cfg.write_text(BASE + '[reader]\nurl = "/dev/tty0 rw\\nDeviceAllow=/dev/mem"\n')
    assert main(["units", "drop-in", "--config", str(cfg)]) == 2
    assert "not a device path" in capsys.readouterr().err


def test_the_cli_writes_the_drop_in(tmp_path):
    out = tmp_path / "gate-app.service.d" / "devices.conf"
    assert main(["units", "drop-in", "--config", str(ROOT / "config/examples/pi-mantrap.toml"),
                 "--output", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o644 and "DeviceAllow=\n" in out.read_text()


@needs_analyze
def test_the_unit_with_its_drop_in_verifies_and_scores(tmp_path):
    unit = with_stand_in_binaries(ROOT / "systemd" / "gate-app.service", tmp_path)
    drop_in = tmp_path / "gate-app.service.d" / "devices.conf"
    drop_in.parent.mkdir()
    drop_in.write_text(drop_in_text(load_config(ROOT / "config/examples/pi-mantrap.toml"), "g", find=no_chips))
    out = subprocess.run([ANALYZE, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.stderr == "" and out.returncode == 0, out.stderr
    assert exposure(unit) <= MAX_EXPOSURE
    drop_in.write_text(drop_in.read_text().replace("DeviceAllow=char-media", "DeviceAlow=char-media"))
    out = subprocess.run([ANALYZE, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert "DeviceAlow" in out.stderr          # the drop-in is read by the check above
