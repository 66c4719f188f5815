"""FieldOps on its own: the lane outbox tap, the updater's alarms handed over once, the status
socket from the config (the whole appliance: test_status_appliance.py)."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from firmware_app.appliance.field_ops import FieldOps
from firmware_app.config import parse_config
from firmware_app.deploy.alarms import AlarmSpool
from firmware_app.errors import GateError
from firmware_app.status.client import query

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


class Outbox:
    def __init__(self):
        self.calls = []

    def crossing(self, record):
        self.calls.append("crossing")

    def has_crossing(self, txn_id):
        return False

    def exception(self, kind, txn_id, detail):
        self.calls.append("exception")

    def alarm(self, kind, txn_id, detail):
        self.calls.append("alarm")


class Link:
    def __init__(self, refuse: bool = False):
        self.refuse, self.alarms = refuse, []

    def raise_alarm(self, kind, severity, *, detail="", msg_id=None):
        if self.refuse:
            raise GateError("outbox full")
        self.alarms.append((kind, severity.value, msg_id))


def ops(tmp_path, link=None) -> FieldOps:
    config = parse_config(f'[device]\nid = "gate-f"\npost_id = "p"\ndata_dir = "{tmp_path}"\n[reader]\nurl = "sim://"\n'
                          f'[face]\nmodels_dir = "{ROOT / "models"}"\n')
    return FieldOps(config, clock=lambda: NOW, lane_state=lambda: "idle", lane_mode=lambda: "normal",
                    outbox_counts=lambda: {"pending": 0}, components=lambda: {"lane": {"status": "ok"}},
                    links=lambda: (link,) if link is not None else ())


def test_the_tap_passes_everything_on_and_notes_codes(tmp_path):
    field, inner = ops(tmp_path), Outbox()
    tapped = field.tap(inner)
    tapped.crossing({"ended_at": "t", "outcome": "passed", "decision": {"reasons": []}})
    tapped.exception("door_forced", "tx", "detail")
    tapped.alarm("tamper", None, "detail")
    assert inner.calls == ["crossing", "exception", "alarm"]
    assert [e["outcome"] for e in field.events.last()] == ["tamper", "door_forced", "passed"]


def test_update_alarms_are_handed_over_once_and_kept_when_the_outbox_refuses(tmp_path):
    spool = AlarmSpool(tmp_path)
    spool.raise_alarm("update_rolled_back", "warning", "0.2.0 not healthy", "2026-12-06T09:00:00Z")
    lone = ops(tmp_path, link=None)                    # no outbox at all: kept
    lone.start()
    lone.stop()
    refusing = ops(tmp_path, Link(refuse=True))
    refusing.start()
    refusing.stop()
    assert len(spool.pending()) == 1
    link = Link()
    field = ops(tmp_path, link)
    field.start()
    try:
        assert query(tmp_path / "status.sock")["device_id"] == "gate-f"
    finally:
        field.stop()
    [(kind, severity, msg_id)] = link.alarms
    assert (kind, severity) == ("update_rolled_back", "warning") and isinstance(msg_id, uuid.UUID)
    assert spool.pending() == [] and not (tmp_path / "status.sock").exists()


def test_health_info_and_the_update_port_come_from_the_config(tmp_path):
    field = ops(tmp_path)
    info = field.health_info()
    assert info["software_version"] and "recognizer" in info["models"] and "certificate" not in info
    port = field.update_port()
    assert port.directory == tmp_path / "updates"
