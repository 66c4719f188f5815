"""`gatectl kiosk demo` and `gatectl kiosk wait` exit codes."""
from __future__ import annotations

import socket

from firmware_app.cli import main
from firmware_app.kiosk.server import KioskServer


def test_demo_plays_a_round_and_exits_ok(capsys):
    assert main(["kiosk", "demo", "--port", "0", "--pause", "0", "--rounds", "2"]) == 0
    assert "kiosk demo on http://127.0.0.1:" in capsys.readouterr().out


def test_demo_on_a_taken_port_is_a_usage_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["kiosk", "demo", "--port", str(port), "--rounds", "1"]) == 2
    assert "cannot listen" in capsys.readouterr().err


def test_wait_answers_ok_when_the_page_is_up_and_1_when_not():
    kiosk = KioskServer(lambda _: None, port=0)
    kiosk.start()
    try:
        assert main(["kiosk", "wait", "--port", str(kiosk.port), "--timeout", "5"]) == 0
    finally:
        kiosk.stop()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free_port = closed.getsockname()[1]
    assert main(["kiosk", "wait", "--port", str(free_port), "--timeout", "0.3"]) == 1


def test_an_unreadable_config_is_a_usage_error(tmp_path):
    bad = tmp_path / "gate.toml"
    bad.write_text("[kiosk]\nport = 'x'\n")
    assert main(["kiosk", "wait", "--config", str(bad)]) == 2


def test_launch_page_reads_the_token_file_gate_app_wrote(tmp_path, capsys):
    from firmware_app.config.model import KioskSection
    token_file = tmp_path / "run" / "kiosk.token"
    KioskServer.from_config(KioskSection(port=8099, token_file=token_file), lambda _: None)
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    again = KioskServer.from_config(KioskSection(port=8099, token_file=token_file), lambda _: None)
    assert again.token == token   # a gate-app restart keeps the browser's session valid
    config = tmp_path / "gate.toml"
    config.write_text(f'[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                      f'[kiosk]\nport = 8099\ntoken_file = "{token_file}"\n')
    out = tmp_path / "start.html"
    assert main(["kiosk", "launch-page", "--config", str(config), "--out", str(out)]) == 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    page = out.read_text()
    assert 'action="http://127.0.0.1:8099/session"' in page and f'value="{token}"' in page
    token_file.chmod(0o604)   # readable by anyone: gate-app does not trust it and makes a new one
    assert KioskServer.from_config(KioskSection(token_file=token_file), lambda _: None).token != token
