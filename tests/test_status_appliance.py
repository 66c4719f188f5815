"""`gatectl status`, the metrics textfile, the BMIS health fields and the updater's alarms against
a running appliance (mock pins, simulated devices, no broker: the local outbox)."""
from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from firmware_app.bmis.contract import MessageKind, validate_message
from firmware_app.cli import main
from firmware_app.config import parse_config
from firmware_app.deploy.alarms import AlarmSpool
from tests.polling import wait_until
from tests.test_app_assembly import assembled, config_text


def status_config(tmp_path, extra: str = ""):
    text = config_text(tmp_path) + f'[metrics]\ntextfile = "{tmp_path / "metrics" / "border_gate.prom"}"\n' \
                                   f'interval_s = 1\n' + extra
    return parse_config(text)


@pytest.fixture
def running(tmp_path):
    config = status_config(tmp_path)
    AlarmSpool(config.device.data_dir).raise_alarm("update_rolled_back", "warning",
                                                   "0.2.0 not healthy; 0.1.0 reinstalled", "2026-12-06T09:00:00Z")
    appliance, gate = assembled(config)
    appliance.start()
    yield config, appliance, gate
    appliance.stop()
    gate.stop()


def pending_of(config, suffix: str) -> list[dict]:
    from firmware_app.bmis.wiring import open_outbox
    box = open_outbox(config)
    try:
        return [json.loads(m.payload) for m in box.next_batch(1000) if m.kind.suffix == suffix]
    finally:
        box.close()


def test_gatectl_status_answers_from_the_running_appliance(running, capsys):
    config, appliance, gate = running
    sock = config.device.data_dir / "status.sock"
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    gate.tamper(True)

    def status_shows_tamper() -> bool:
        # The lane is already out of service (the simulated camera has no photos), so the state alone
        # says nothing about the tamper alarm having been handled: wait for its event.
        capsys.readouterr()
        main(["status", "--socket", str(sock), "--json"])
        latest = json.loads(capsys.readouterr().out)
        return any(e["kind"] == "alarm" and e["outcome"] == "tamper" for e in latest["last_events"])

    assert wait_until(status_shows_tamper, 10.0)
    capsys.readouterr()
    assert main(["status", "--socket", str(sock), "--json"]) == 1          # out of service
    body = json.loads(capsys.readouterr().out)
    assert body["device_id"] == "gate-t1" and body["state"] == "out_of_service" and body["mode"] == "normal"
    assert {"pending", "unreceipted", "oldest_unreceipted_age_s", "dead_letters"} <= set(body["outbox"])
    assert body["versions"]["app"] and "detector" in body["versions"]["models"]["models"]
    assert body["devices"]["lane"]["status"] in ("ok", "failed") and "camera" in body["devices"]
    assert any(e["kind"] == "alarm" and e["outcome"] == "tamper" for e in body["last_events"])
    assert main(["status", "--socket", str(sock)]) == 1
    assert "gate-t1: out_of_service" in capsys.readouterr().out


def test_the_metrics_textfile_follows_the_appliance_and_goes_with_it(running):
    config, appliance, _ = running
    textfile = config.metrics.textfile
    assert wait_until(textfile.exists, 10.0)
    text = textfile.read_text()
    assert 'border_gate_up{device="gate-t1"' in text and "border_gate_outbox_pending" in text
    appliance.stop()
    assert not textfile.exists() and not (config.device.data_dir / "status.sock").exists()


def test_the_updaters_alarms_reach_the_outbox_once(running):
    config, appliance, _ = running
    assert AlarmSpool(config.device.data_dir).pending() == []
    alarms = [m["data"] for m in pending_of(config, "alarms")]
    assert [a["severity"] for a in alarms if a["kind"] == "update_rolled_back"] == ["warning"]


def test_the_health_message_carries_versions(running):
    config, appliance, _ = running
    appliance.bmis.link.publish_health(appliance.health(), uptime_s=1.0, info=appliance.health_info())
    [health] = pending_of(config, "health")[-1:]
    validate_message(MessageKind.HEALTH, health)
    assert health["schema"] == "health/1.2" and health["data"]["software_version"]
    assert "recognizer" in health["data"]["models"]


def test_a_database_from_a_newer_release_keeps_the_lane_out_of_service_and_says_why(tmp_path):
    config = status_config(tmp_path)
    data = config.device.data_dir
    data.mkdir(parents=True)
    conn = sqlite3.connect(data / "lane-journal.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert wait_until(lambda: appliance.lane_state() == "out_of_service", 10.0)
        [(fault, error)] = [(f, e) for f, e in appliance.faults if e.component == "lane journal"]
        assert "newer" in error.reason and "999" in error.reason
    finally:
        appliance.stop()
        gate.stop()
