"""`gatesim bmis` against a real broker: send a command to a live gate, show what arrived."""
from __future__ import annotations

import json
import time

from simulator.cli import main as gatesim
from tests.broker_fixtures import broker, make_link  # noqa: F401  (fixture)
from tests.polling import wait_until


def _connection_args(broker, db) -> list[str]:
    ep = broker.endpoints
    return ["--port", str(ep.bmis_port), "--ca", str(ep.ca_file), "--user", ep.bmis_user,
            "--password", ep.bmis_password, "--db", str(db), "--client-id", "gatesim-cli"]


def test_send_reports_the_nack_and_show_lists_it(broker, tmp_path, capsys):
    link = make_link(broker, tmp_path)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        time.sleep(0.2)
        db = tmp_path / "cli.db"
        code = gatesim(["bmis", "send", *_connection_args(broker, db), "--device", "gate-a",
                        "--command", "request-status", "--json", "--timeout", "10"])
        answer = json.loads(capsys.readouterr().out)
        assert code == 1 and answer["status"] == "nack" and answer["reason"] == "not_implemented"
        assert gatesim(["bmis", "show", "--db", str(db), "--kind", "cmd-result", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert [m["data"]["reason"] for m in shown] == ["not_implemented"]
    finally:
        link.stop()


def test_show_without_a_database_is_a_usage_error(tmp_path, capsys):
    assert gatesim(["bmis", "show", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no database" in capsys.readouterr().err


def test_send_with_a_bad_body_is_a_usage_error(broker, tmp_path, capsys):
    args = ["bmis", "send", *_connection_args(broker, tmp_path / "x.db"), "--device", "gate-a",
            "--command", "set-mode", "--body", "[1, 2]"]
    assert gatesim(args) == 2
