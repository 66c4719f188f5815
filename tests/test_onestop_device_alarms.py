"""One-stop post (issue 17): the device's own alarms reach both authorities, each stored once.

Both authorities run the device, so an alarm about the device (tamper, door forced, the updater's
rollback) goes to each; an alert-list hit stays with its owner (test_onestop_parts.py). A write
one outbox stored and the other refused is retried by the lane; the retry must not store it again
where it already is. The updater's alarms are handed over with their own msg_id, so the outbox
that already holds one skips it (real SQLite outboxes here)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from firmware_app.appliance.bmis_side import local_link
from firmware_app.appliance.field_ops import FieldOps
from firmware_app.config import parse_config
from firmware_app.deploy.alarm_forwarder import forward_deploy_alarms
from firmware_app.deploy.alarms import AlarmSpool
from firmware_app.errors import GateError
from firmware_app.lane.actions import AlarmKind, ExceptionKind
from firmware_app.onestop.decider import JointDecisions
from firmware_app.onestop.outbox import SovereignOutbox
from firmware_app.onestop.records import Agreement
from firmware_app.policy.onestop import Role

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
AGREEMENT = Agreement(frozenset({"document_number"}), {Role.EXIT: "UTO", Role.ENTRY: "ARC"})


class FlakyBox:
    """An authority's outbox that refuses its next `refusals` writes (a full disk), then stores."""

    def __init__(self, refusals: int = 0):
        self.alarms, self.exceptions, self.refusals = [], [], refusals

    def _store(self, into: list, item) -> None:
        if self.refusals:
            self.refusals -= 1
            raise GateError("outbox full")
        into.append(item)

    def alarm(self, kind, txn_id, detail):
        self._store(self.alarms, (kind, txn_id, detail))

    def exception(self, kind, txn_id, detail):
        self._store(self.exceptions, (kind, txn_id, detail))


@pytest.mark.parametrize("refusing", [Role.EXIT, Role.ENTRY])
def test_a_device_alarm_refused_by_one_side_is_stored_once_by_each_after_the_retry(refusing):
    boxes = {role: FlakyBox(1 if role is refusing else 0) for role in Role}
    outbox = SovereignOutbox(boxes, JointDecisions(), AGREEMENT)
    with pytest.raises(GateError):
        outbox.alarm(AlarmKind.TAMPER, None, "tamper loop open")
    outbox.alarm(AlarmKind.TAMPER, None, "tamper loop open")        # the runner's owed retry, as it was
    for role in Role:
        assert boxes[role].alarms == [(AlarmKind.TAMPER, None, "tamper loop open")], role


def test_an_exception_refused_by_one_side_is_stored_once_by_each_and_a_new_one_counts_again():
    boxes = {Role.EXIT: FlakyBox(), Role.ENTRY: FlakyBox(1)}
    outbox = SovereignOutbox(boxes, JointDecisions(), AGREEMENT)
    with pytest.raises(GateError):
        outbox.exception(ExceptionKind.STAGE_TIMEOUT, "t1", "chip")
    outbox.exception(ExceptionKind.STAGE_TIMEOUT, "t1", "chip")     # the retry
    outbox.exception(ExceptionKind.STAGE_TIMEOUT, "t1", "chip")     # a second, genuine one
    assert len(boxes[Role.EXIT].exceptions) == len(boxes[Role.ENTRY].exceptions) == 2


class RefuseOnce:
    """A real link whose outbox is full the first time an alarm is handed to it."""

    def __init__(self, link):
        self.link, self.refused = link, False

    def raise_alarm(self, *args, **kwargs):
        if not self.refused:
            self.refused = True
            raise GateError("outbox full")
        return self.link.raise_alarm(*args, **kwargs)


def _config(data_dir: Path):
    return parse_config(f'[device]\nid = "osbp-1"\npost_id = "p"\ndata_dir = "{data_dir}"\n[reader]\nurl = "sim://"\n'
                        f'[face]\nmodels_dir = "{ROOT / "models"}"\n')


def _alarms(link) -> list[dict]:
    return [json.loads(m.payload)["data"] | {"msg_id": json.loads(m.payload)["msg_id"]}
            for m in link.outbox.next_batch(50) if m.kind.suffix == "alarms"]


def test_an_updater_alarm_reaches_both_authorities_outboxes_once_even_after_a_refusal(tmp_path):
    lane_dir = tmp_path / "lane"
    links = {role: local_link(_config(tmp_path / role.value), lambda: NOW) for role in Role}
    flaky = RefuseOnce(links[Role.ENTRY])
    ops = FieldOps(_config(lane_dir), clock=lambda: NOW, lane_state=lambda: "idle", lane_mode=lambda: "normal",
                   outbox_counts=dict, components=dict, links=lambda: (links[Role.EXIT], flaky))
    lane_dir.mkdir()
    alarm = AlarmSpool(lane_dir).raise_alarm("update_rolled_back", "warning", "0.2.0 not healthy", "2026-12-06T09:00Z")
    assert forward_deploy_alarms(lane_dir, ops.raise_alarm) == []      # the entry side refused: the file stays
    assert len(AlarmSpool(lane_dir).pending()) == 1
    assert [a["kind"] for a in _alarms(links[Role.EXIT])] == ["update_rolled_back"]
    assert forward_deploy_alarms(lane_dir, ops.raise_alarm) == [alarm]  # the next start hands it over again
    for role in Role:
        stored = _alarms(links[role])
        assert [(a["kind"], a["msg_id"]) for a in stored] == [("update_rolled_back", alarm.alarm_id)], role
        links[role].outbox.close()
    assert AlarmSpool(lane_dir).pending() == []
