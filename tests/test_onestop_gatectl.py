"""gatectl on a one-stop config (issue 17): the tools that look at one BMIS side (outbox, BMIS keys,
alert lists, command audit, statistics, trust store) show one authority's side, chosen with
--authority, refuse clearly without it, and never show the other side's data. The sides' files
are written by the appliance's own one-stop wiring (links not configured: local outboxes)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from firmware_app.appliance.onestop import build_onestop
from firmware_app.bmis.link import Severity
from firmware_app.cli import main as gatectl
from firmware_app.config import parse_config
from firmware_app.policy.onestop import Role
from tests.onestop_trust_helpers import arc

SECRETS = {Role.EXIT: ("uto-bans-secret", "uto_only_alarm"), Role.ENTRY: ("arc-watch-secret", "arc_only_alarm")}


def _authority(role: str, country: str, port: int, home, extra: str = "") -> str:
    return (f'[[authority]]\nrole = "{role}"\ncountry = "{country}"\ndata_dir = "{home}"\n{extra}'
            f'[authority.bmis]\nport = {port}\ncommand_keys_dir = "{home}/keys"\n')


@pytest.fixture(scope="module")
def post(tmp_path_factory):
    """A one-stop config whose two sides each hold an alert list, an alarm and a key of their own."""
    tmp = tmp_path_factory.mktemp("osbp-cli")
    path = tmp / "gate.toml"
    path.write_text(f'[device]\nid = "osbp-1"\npost_id = "p"\ndata_dir = "{tmp / "lane"}"\n[reader]\nurl = "sim://"\n'
                    '[onestop]\nshared_fields = []\n' + _authority("exit", "UTO", 8001, tmp / "uto")
                    + _authority("entry", "ARC", 8002, tmp / "arc", f'csca_dir = "{tmp / "arc-csca"}"\n'))
    config = parse_config(path.read_text())
    for authority in config.authority:
        authority.bmis.command_keys_dir.mkdir(parents=True)
    sides = build_onestop(config, lambda: datetime.now(UTC), lambda: True)
    for role, (list_id, alarm) in SECRETS.items():
        sides.sides[role].commands.alerts.replace(list_id, "document", 1, [
            {"id": f"{list_id}-1", "issuing_state": "UTO", "number": "X1", "category": "c"}])
        sides.sides[role].link.raise_alarm(alarm, Severity.WARNING, detail=list_id)
    sides.stop()
    return path


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = gatectl(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("tool", [["outbox", "status"], ["bmis", "alerts"], ["bmis", "audit"], ["bmis", "stats"],
                                  ["bmis", "keys"]])
def test_a_one_stop_config_needs_authority_and_says_which(post, capsys, tool):
    code, out, err = _run(capsys, *tool, "--config", str(post))
    assert code == 2 and out == ""
    assert "--authority" in err and "exit (UTO)" in err and "entry (ARC)" in err
    code, _, err = _run(capsys, *tool, "--config", str(post), "--authority", "XXA")
    assert code == 2 and "no authority 'XXA'" in err


@pytest.mark.parametrize("role, choice", [(Role.EXIT, "exit"), (Role.ENTRY, "ARC")])
def test_each_side_shows_its_own_lists_and_outbox_only(post, capsys, role, choice):
    other = Role.ENTRY if role is Role.EXIT else Role.EXIT
    code, alerts, _ = _run(capsys, "bmis", "alerts", "--config", str(post), "--authority", choice, "--json")
    assert code == 0 and [row["list_id"] for row in json.loads(alerts)] == [SECRETS[role][0]]
    code, outbox, _ = _run(capsys, "outbox", "status", "--config", str(post), "--authority", choice, "--json")
    summary = json.loads(outbox)
    assert code == 0 and summary["pending_by_kind"] == {"ALARM": 1}   # its own alarm, not both
    code, audit, _ = _run(capsys, "bmis", "audit", "--config", str(post), "--authority", choice, "--json")
    for text in (alerts, outbox, audit):
        assert not any(secret in text for secret in SECRETS[other])


def test_pki_with_authority_uses_that_authoritys_own_store(post, capsys, tmp_path):
    csca = tmp_path / "arc.der"
    csca.write_bytes(arc().csca.der)
    code, _, err = _run(capsys, "pki", "import", str(csca), "--config", str(post), "--authority", "entry")
    assert code == 0, err
    assert [p.suffix for p in (post.parent / "arc-csca").iterdir()] == [".der"]
    assert not (post.parent / "uto-csca").exists()


def test_authority_is_refused_on_a_single_authority_config(capsys, tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text(f'[device]\nid = "g1"\npost_id = "p"\ndata_dir = "{tmp_path}"\n[reader]\nurl = "sim://"\n')
    code, _, err = _run(capsys, "bmis", "alerts", "--config", str(path), "--authority", "exit")
    assert code == 2 and "one-stop config" in err
    assert _run(capsys, "bmis", "alerts", "--config", str(path))[0] == 0      # unchanged without it
