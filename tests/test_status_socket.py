"""The status socket and the Prometheus textfile on their own (the appliance's snapshot is tested
against a running appliance in test_status_appliance.py)."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time

import pytest

from firmware_app.cli import main
from firmware_app.cli.status_cmd import text as status_text
from firmware_app.status.client import query
from firmware_app.status.errors import StatusUnavailable
from firmware_app.status.metrics import TextfileWriter, render
from firmware_app.status.server import StatusServer

SNAPSHOT = {"device_id": "gate-s", "state": "idle", "mode": "normal", "uptime_s": 12.5,
            "versions": {"app": "0.1.0"}, "outbox": {"pending": 2, "unreceipted": 1, "oldest_unreceipted_age_s": 4.0,
                                                     "dead_letters": 0, "oldest_pending_age_s": 9.0},
            "certificate": {"not_after": "2027-01-01T00:00:00Z", "days_left": 26},
            "devices": {"camera": {"status": "ok"}, "reader": {"status": "failed", "detail": "port_gone"}}}
SAMPLE = re.compile(r'^[a-z_]+\{(?:[a-z_]+="[^"\\\n]*",?)+\} -?[0-9.e+]+$')


@pytest.fixture
def server(tmp_path):
    calls = []

    def snapshot():
        calls.append(1)
        return dict(SNAPSHOT)
    srv = StatusServer(tmp_path / "status.sock", snapshot)
    srv.start()
    yield srv
    srv.stop()


def test_the_socket_is_0660_and_answers_one_snapshot(server):
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o660 and stat.S_ISSOCK(os.stat(server.path).st_mode)
    assert query(server.path) == SNAPSHOT


def test_a_stalled_client_does_not_hold_the_others(server):
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.connect(str(server.path))          # says nothing
    started = time.monotonic()
    assert query(server.path, timeout_s=5)["device_id"] == "gate-s"
    assert time.monotonic() - started < 4       # dropped after the server's 1 s client timeout
    stalled.close()


def test_an_unknown_request_and_a_failing_snapshot_are_answered_not_crashed(tmp_path):
    srv = StatusServer(tmp_path / "s.sock", lambda: 1 / 0)
    srv.start()
    try:
        assert query(srv.path) == {"error": "snapshot failed: ZeroDivisionError"}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(srv.path))
            raw.sendall(b"x" * 64)
            assert json.loads(raw.recv(4096)) == {"error": "unknown request"}
    finally:
        srv.stop()
    assert not srv.path.exists()


def test_nobody_listening_is_a_typed_error(tmp_path):
    with pytest.raises(StatusUnavailable, match="is gate-app running"):
        query(tmp_path / "none.sock")


def test_gatectl_status_exit_codes(server, tmp_path, capsys):
    assert main(["status", "--socket", str(server.path)]) == 1            # the reader failed
    out = capsys.readouterr().out
    assert "gate-s: idle (mode normal)" in out and "reader: failed port_gone" in out
    SNAPSHOT["devices"]["reader"] = {"status": "ok"}
    try:
        assert main(["status", "--socket", str(server.path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["outbox"]["pending"] == 2
    finally:
        SNAPSHOT["devices"]["reader"] = {"status": "failed", "detail": "port_gone"}
    assert main(["status", "--socket", str(tmp_path / "none.sock")]) == 2


def test_metrics_render_in_the_exposition_format():
    text = render({**SNAPSHOT, "device_id": 'evil"\nname'})
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(SAMPLE.match(line) for line in samples), text
    assert 'border_gate_outbox_unreceipted{device="evil__name"} 1' in samples
    assert 'border_gate_component_ok{device="evil__name",component="reader"} 0' in samples
    assert 'border_gate_lane_state{device="evil__name",state="idle"} 1' in samples
    assert 'border_gate_certificate_days_left{device="evil__name"} 26' in samples


def test_a_one_stop_post_has_each_authoritys_outbox_gauges():
    """`gatectl status` gives each authority's outbox (appliance/onestop_status.py): so does the textfile."""
    counts = SNAPSHOT["outbox"]
    text = render({**SNAPSHOT, "outbox": {"authorities": {"exit": {**counts, "pending": 7},
                                                          "entry": {"error": "OutboxError: disk I/O error"}}}})
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(SAMPLE.match(line) for line in samples), text
    assert 'border_gate_outbox_pending{device="gate-s",authority="exit"} 7' in samples
    assert 'border_gate_outbox_oldest_unreceipted_age_seconds{device="gate-s",authority="exit"} 4.0' in samples
    assert not [line for line in samples if 'authority="entry"' in line]      # unreadable: no made-up counts
    assert text.count("# TYPE border_gate_outbox_pending gauge") == 1
    assert 'border_gate_outbox_pending{device="gate-s"}' not in text


def test_a_one_stop_post_has_each_authoritys_certificate_gauge_and_line():
    """Each authority's [authority.bmis] client certificate, never a lane-wide one; an authority
    without one has no sample (and `none` in gatectl status)."""
    certs = {"authorities": {"exit": {"country": "UTO", "not_after": "2027-03-01T00:00:00Z", "days_left": 85},
                             "entry": {"country": "ARC"}}}
    text = render({**SNAPSHOT, "certificate": certs})
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(SAMPLE.match(line) for line in samples), text
    assert 'border_gate_certificate_days_left{device="gate-s",authority="exit"} 85' in samples
    assert not [line for line in samples if line.startswith("border_gate_certificate_days_left{device=\"gate-s\"}")]
    assert not [line for line in samples if 'authority="entry"' in line and "certificate" in line]
    lines = status_text({**SNAPSHOT, "certificate": certs}).splitlines()
    assert "certificate exit (UTO): 2027-03-01T00:00:00Z (85 days left)" in lines
    assert "certificate entry (ARC): none (? days left)" in lines
    assert "certificate: 2027-01-01T00:00:00Z (26 days left)" in status_text(SNAPSHOT).splitlines()   # one authority


def test_the_textfile_is_replaced_atomically_and_removed_at_stop(tmp_path):
    target = tmp_path / "metrics" / "border_gate.prom"
    counter = iter(range(10**6))
    seen, broken, stop = set(), [], threading.Event()
    writer = TextfileWriter(target, lambda: {**SNAPSHOT, "uptime_s": next(counter)}, interval_s=1)

    def reader():   # never a partial file: every read is a whole rendering
        while not stop.is_set():
            if target.exists():
                text = target.read_text()
                if not (text.endswith("\n") and "border_gate_up" in text):
                    broken.append(text)
                seen.add(text)
    thread = threading.Thread(target=reader)
    thread.start()
    writer.start()
    for _ in range(50):
        writer.write_once()
    stop.set()
    thread.join()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and seen and broken == []
    writer.stop()
    assert not target.exists() and list(target.parent.iterdir()) == []
