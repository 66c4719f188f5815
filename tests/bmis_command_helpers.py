"""Helpers for the BMIS command tests: a fake lane port, a clock, a signed-command builder."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.alerts.store import AlertStore
from firmware_app.bmis.commands.journal import CommandJournal
from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
from firmware_app.bmis.commands.signing import TrustStore, sign_command
from firmware_app.errors import GateError
from tests.fakes import WallClock

PREFIX, DEVICE = "gates", "gate-01"
ROOT = f"{PREFIX}/v1/{DEVICE}"


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class LaneRefusal(GateError):
    pass


class FakeLane:
    """Records what the commands asked for; `refuse` makes the next calls fail like a real lane."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.override_command_ids: list[str] = []
        self.refuse = False

    def _maybe_refuse(self):
        if self.refuse:
            raise LaneRefusal("emergency input active")

    def set_mode(self, mode, operator_id):
        self._maybe_refuse()
        self.calls.append(("set_mode", mode.value, operator_id))

    def override_door(self, action, door, operator_id, command_id):
        self._maybe_refuse()
        self.calls.append(("override", action.value, door.value, operator_id))
        self.override_command_ids.append(command_id)

    def request_status(self):
        self._maybe_refuse()
        return {"state": "idle", "mode": "normal"}


class Bmis:
    """Builds commands as the BMIS would, signed with its key."""

    def __init__(self, clock: WallClock, key: Ed25519PrivateKey | None = None):
        self.clock = clock
        self.key = key or Ed25519PrivateKey.generate()
        self._counter = 0

    def body(self, params: dict | None = None, *, lifetime=timedelta(minutes=5), **extra) -> dict:
        self._counter += 1
        body = {"command_id": f"cmd-{self._counter}", "issued_at": utc(self.clock.now),
                "expires_at": utc(self.clock.now + lifetime), "operator_id": "officer-7",
                "params": params or {}}
        body.update(extra)
        return body

    def signed(self, name: str, params: dict | None = None, **kw) -> tuple[str, bytes]:
        topic = f"{ROOT}/cmd/{name}"
        return topic, json.dumps(sign_command(self.key, topic, self.body(params, **kw))).encode()

    def unsigned(self, name: str, params: dict | None = None, **kw) -> tuple[str, bytes]:
        return f"{ROOT}/cmd/{name}", json.dumps(self.body(params, **kw)).encode()


class FakePki:
    """A trust store that takes every file (the real one: firmware_app.appliance.pki_updates)."""

    def __init__(self):
        self.files: list[tuple[str, bytes]] = []

    def apply(self, files: list[tuple[str, bytes]]) -> dict:
        self.files += files
        return {"files": [{"name": name, "outcome": "added"} for name, _ in files]}


class FakeUpdates:
    """An updater that only records (the real one: firmware_app.deploy.requests.UpdateRequests)."""

    def __init__(self):
        self.started: list[tuple[str, str]] = []

    def start(self, topic: str, body: dict, command_id: str, params: dict) -> dict:
        from firmware_app.deploy.requests import parse_update_params
        wanted = parse_update_params(params)          # the real checks: a ValueError is a nack
        self.started.append((command_id, wanted.sha256))
        return {"state": "downloading"}


def make_processor(tmp_path, clock: WallClock, bmis: Bmis, lane: FakeLane, alarms: list | None = None,
                   pki=None, updates=None):
    alerts = AlertStore.open(tmp_path / "alerts.db", clock)
    journal = CommandJournal.open(tmp_path / "commands.db", monotonic=clock.monotonic)
    sink = (lambda code, detail: alarms.append((code, detail))) if alarms is not None else None
    processor = CommandProcessor(CommandSettings(PREFIX, DEVICE), trust=TrustStore.of(bmis.key.public_key()),
                                 journal=journal, alerts=alerts, lane=lane, clock=clock, on_alarm=sink,
                                 pki=pki or FakePki(), updates=updates or FakeUpdates())
    return processor, alerts, journal
