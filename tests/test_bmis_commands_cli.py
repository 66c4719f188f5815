"""`gatectl bmis ...` and the command side built from a config file."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.command_wiring import build_command_side
from firmware_app.bmis.commands.signing import key_id_of, public_key_pem, sign_command
from firmware_app.cli import main
from firmware_app.config import load_config
from tests.bmis_command_helpers import FakeLane

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def write_config(tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text(f'''
[device]
id = "gate-07"
post_id = "post-1"
data_dir = "{tmp_path / 'var'}"

[reader]
url = "sim://"

[bmis]
command_keys_dir = "{tmp_path / 'keys'}"
''')
    return path


def test_key_add_then_keys(tmp_path, capsys):
    key = Ed25519PrivateKey.generate().public_key()
    pem = tmp_path / "bmis.pem"
    pem.write_bytes(public_key_pem(key))
    config = write_config(tmp_path)
    assert main(["bmis", "keys", "--config", str(config)]) == 2  # no directory yet
    assert main(["bmis", "key-add", str(pem), "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["key_id"] == key_id_of(key)
    assert main(["bmis", "keys", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["key_ids"] == [key_id_of(key)]


def test_key_add_refuses_garbage(tmp_path, capsys):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    assert main(["bmis", "key-add", str(bad), "--dir", str(tmp_path / "keys")]) == 2
    assert "not a PEM public key" in capsys.readouterr().err
    assert not (tmp_path / "keys").exists()


def test_empty_trust_store_fails_the_check(tmp_path):
    (tmp_path / "keys").mkdir()
    assert main(["bmis", "keys", "--dir", str(tmp_path / "keys")]) == 1


def test_configured_side_handles_a_signed_command_and_tools_show_it(tmp_path, capsys):
    bmis_key = Ed25519PrivateKey.generate()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "bmis.pem").write_bytes(public_key_pem(bmis_key.public_key()))
    config_path = write_config(tmp_path)
    lane = FakeLane()
    side = build_command_side(load_config(config_path), lane=lane, clock=lambda: NOW)
    topic = "gates/v1/gate-07/cmd/alerts-replace"
    body = {"command_id": "c1", "issued_at": "2026-11-26T11:59:00Z", "expires_at": "2026-11-26T12:04:00Z",
            "operator_id": "ops-1", "params": {"list_id": "sltd", "kind": "document", "version": 9,
                                               "entries": [{"id": "E1", "issuing_state": "UTO",
                                                            "number": "L898902C3"}]}}
    result = side.processor.handle(topic, json.dumps(sign_command(bmis_key, topic, body)).encode())
    assert result["status"] == "ack"
    assert side.alerts.check_document("UTO", "L898902C3")[0].list_version == "9"
    side.close()
    assert main(["bmis", "alerts", "--config", str(config_path), "--json"]) == 0
    assert [(r["list_id"], r["version"], r["entry_count"]) for r in json.loads(capsys.readouterr().out)] == [
        ("sltd", 9, 1)]
    assert main(["bmis", "audit", "--config", str(config_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["operator_id"] == "ops-1"
    assert main(["bmis", "stats", "--config", str(config_path)]) == 0


def test_bad_config_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[device]\nid = 'x y'\n")
    assert main(["bmis", "alerts", "--config", str(bad)]) == 2


def test_show_commands_on_a_fresh_gate_create_nothing(tmp_path, capsys):
    config = write_config(tmp_path)
    for action in ("alerts", "audit", "stats"):
        assert main(["bmis", action, "--config", str(config), "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
    assert not (tmp_path / "var").exists()


def test_missing_key_directory_refuses_signed_commands(tmp_path):
    side = build_command_side(load_config(write_config(tmp_path)), lane=FakeLane(), clock=lambda: NOW)
    key = Ed25519PrivateKey.generate()
    topic = "gates/v1/gate-07/cmd/set-mode"
    body = {"command_id": "c1", "issued_at": "2026-11-26T11:59:00Z", "expires_at": "2026-11-26T12:04:00Z",
            "params": {"mode": "closed"}}
    result = side.processor.handle(topic, json.dumps(sign_command(key, topic, body)).encode())
    assert (result["status"], result["reason"]) == ("nack", "unknown_key")
    side.close()
