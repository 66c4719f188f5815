"""Software updates on a one-stop post, gate-app's half (appliance/onestop_updates.py): the
agreement's [onestop] update_authority decides whose signed update-apply is taken. Unit tests of
the rule over a recording UpdateRequests (the real brokers run it in test_onestop_e2e.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.appliance.onestop_updates import AgreedUpdates
from firmware_app.config import parse_config
from firmware_app.config.onestop import UpdateAuthority
from firmware_app.errors import ConfigError
from firmware_app.onestop.errors import CommandNotPermitted
from firmware_app.policy.onestop import Role

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PARAMS = {"url": "https://bmis.example/p.deb", "sha256": "ab" * 32, "version": "2.0"}


class Requests:
    """Records what would be fetched (UpdateRequests' start and start_joint)."""

    def __init__(self):
        self.started: list[list[str]] = []
        self.alarms: list[tuple[str, str]] = []

    def report(self, kind, detail) -> None:
        self.alarms.append((kind, detail))

    def start(self, topic, body, command_id, params) -> dict:
        return self.start_joint([(topic, body, command_id)], params)

    def start_joint(self, commands, params) -> dict:
        self.started.append([command_id for _, _, command_id in commands])
        return {"state": "downloading"}


def _command(role: Role, command_id: str, expires: datetime = NOW + timedelta(hours=1), **params):
    topic = f"{role.value}-gates/v1/g/cmd/update-apply"
    body = {"command_id": command_id, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params": {**PARAMS, **params}}
    return topic, body, command_id, body["params"]


def _agreed(agreed: UpdateAuthority | None, clock=lambda: NOW):
    requests = Requests()
    return AgreedUpdates(agreed, requests, clock), requests   # type: ignore[arg-type]


def test_without_the_key_every_update_is_refused_naming_it():
    agreed, requests = _agreed(None)
    for role in Role:
        with pytest.raises(CommandNotPermitted, match=r"\[onestop\] update_authority is not set"):
            agreed.port(role).start(*_command(role, f"u-{role.value}"))
    assert requests.started == []


@pytest.mark.parametrize("owner", [Role.EXIT, Role.ENTRY])
def test_one_authoritys_updates_and_the_other_refused_with_why(owner):
    agreed, requests = _agreed(UpdateAuthority(owner.value))
    other = Role.ENTRY if owner is Role.EXIT else Role.EXIT
    with pytest.raises(CommandNotPermitted, match=f"are the {owner.value} authority's.*the {other.value} authority"):
        agreed.port(other).start(*_command(other, "u-other"))
    assert agreed.port(owner).start(*_command(owner, "u-own")) == {"state": "downloading"}
    assert requests.started == [["u-own"]]


def test_both_need_the_same_unexpired_request_from_each():
    clock = [NOW]
    agreed, requests = _agreed(UpdateAuthority.BOTH, lambda: clock[0])
    exit_, entry = agreed.port(Role.EXIT), agreed.port(Role.ENTRY)
    assert exit_.start(*_command(Role.EXIT, "x1", NOW + timedelta(minutes=5)))["awaiting"] == "entry"
    assert entry.start(*_command(Role.ENTRY, "n1", sha256="cd" * 32))["state"] == "awaiting_other_authority"
    clock[0] = NOW + timedelta(minutes=6)           # exit's x1 expired meanwhile
    assert entry.start(*_command(Role.ENTRY, "n2"))["awaiting"] == "exit"
    assert [kind for kind, _ in requests.alarms] == ["update_half_expired"]      # x1, reported
    assert requests.started == []
    assert exit_.start(*_command(Role.EXIT, "x2")) == {"state": "downloading"}
    assert requests.started == [["x2", "n2"]]          # exit's first, as root reads them
    assert exit_.start(*_command(Role.EXIT, "x3"))["state"] == "awaiting_other_authority"   # n2 was used


def test_config_check_names_a_bad_update_authority():
    text = ('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
            '[onestop]\nshared_fields = []\nupdate_authority = "lane"\n'
            '[[authority]]\nrole = "exit"\ncountry = "UTO"\ndata_dir = "var/u"\n'
            '[authority.bmis]\nport = 1\ncommand_keys_dir = "var/u/k"\n'
            '[[authority]]\nrole = "entry"\ncountry = "ARC"\ndata_dir = "var/a"\n'
            '[authority.bmis]\nport = 2\ncommand_keys_dir = "var/a/k"\n')
    with pytest.raises(ConfigError, match=r"(?s)onestop\.update_authority.*'exit', 'entry' or 'both'"):
        parse_config(text)
    assert parse_config(text.replace('"lane"', '"both"')).onestop.update_authority is UpdateAuthority.BOTH
