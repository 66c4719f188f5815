"""`gatectl gate check`: exit codes and what an unwired gate reads as (open loops = alarms)."""
from __future__ import annotations

import json
from pathlib import Path

from firmware_app.cli import main as gatectl

ROOT = Path(__file__).resolve().parents[1]
ACTIVE_HIGH = ('entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
               'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }\n')
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'


def test_unwired_mock_gate_reads_as_emergency_and_open_doors(capsys):
    assert gatectl(["gate", "check", "--config", str(ROOT / "config" / "default.toml"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["emergency"] and report["tamper"] and report["doors_open"] == ["entry", "exit"]


def test_pi_factory_off_a_pi_is_exit_2(tmp_path, capsys):
    config = tmp_path / "gate.toml"
    config.write_text(MINIMAL + '[gate]\npin_factory = "lgpio"\n' + ACTIVE_HIGH)
    code = gatectl(["gate", "check", "--config", str(config)])
    if code == 2:
        assert "gate unavailable" in capsys.readouterr().err
    else:   # on a real Pi the pins load; the check then reports on them
        assert code in (0, 1)


def test_missing_config_is_exit_2(tmp_path):
    assert gatectl(["gate", "check", "--config", str(tmp_path / "absent.toml")]) == 2
