"""The officer console as gate-app builds it from [officer]: served on its address with the lane's
desk behind it, stopped with the appliance; a console that cannot start is reported on the health
and is not a lane fault (NORMAL mode needs no officer; ASSISTED refers at the timeout)."""
from __future__ import annotations

import sqlite3

from firmware_app.config import parse_config
from simulator.local_process import free_port
from tests.officer_helpers import ConsoleClient, credential_file, tls_files
from tests.test_app_assembly import assembled, config_text


def officer_config(tmp_path, cert, key, port: int) -> str:
    return (config_text(tmp_path) + f'[lane]\nmode = "assisted"\n[officer]\nenabled = true\nbind = "127.0.0.1"\n'
            f'port = {port}\ncert_file = "{cert}"\nkey_file = "{key}"\n'
            f'credential_file = "{credential_file(tmp_path)}"\n')


def test_gate_app_serves_the_console_with_the_lane_s_desk_and_audit(tmp_path):
    ca, server = tls_files(tmp_path)
    port = free_port()
    appliance, gate = assembled(parse_config(officer_config(tmp_path, server.cert, server.key, port)))
    try:
        appliance.start()
        assert appliance.runner.ports.officer is appliance.officer.desk
        client = ConsoleClient(port, ca)
        assert client.login().status == 303 and "No traveller waiting" in client.get("/").text
        assert "officer_console" not in appliance.health()
    finally:
        appliance.stop()
        gate.stop()
    rows = sqlite3.connect(tmp_path / "var" / "officer-audit.db").execute("SELECT action FROM officer_audit").fetchall()
    assert rows == [("login",)]             # in device.data_dir by default
    assert _closed(port, ca)                # stopped with the appliance


def _closed(port, ca) -> bool:
    try:
        ConsoleClient(port, ca).get("/healthz")
    except OSError:
        return True
    return False


def test_a_console_that_cannot_start_is_on_the_health_not_a_lane_fault(tmp_path):
    missing = tmp_path / "no-such-cert.pem"
    appliance, gate = assembled(parse_config(officer_config(tmp_path, missing, missing, free_port())))
    try:
        appliance.start()
        health = appliance.health()
        assert health["officer_console"]["status"] == "failed" and "certificate" in health["officer_console"]["note"]
        assert "officer_console" not in {error.component for _, error in appliance.faults}
        assert appliance.runner.ports.officer is None
    finally:
        appliance.stop()
        gate.stop()
