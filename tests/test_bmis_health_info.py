"""The health message's 1.2 fields through the link, and alarms handed over with their own id."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from firmware_app.bmis.contract import Identity, MessageKind, validate_message
from firmware_app.bmis.link import BmisLink, Severity
from firmware_app.bmis.outbox.queue import Outbox

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
INFO = {"software_version": "0.2.0", "models": {"detector": {"name": "YuNet 2023mar", "sha256": "8f2383e4dd3cfbb4"}},
        "pad_available": True, "certificate": {"not_after": "2027-01-05T00:00:00Z", "days_left": 29},
        "last_update": {"outcome": "rolled_back", "version": "0.3.0"}, "not_a_field": 1}


def link(tmp_path) -> BmisLink:
    outbox = Outbox(tmp_path / "o.db", Identity("gate-h", "post-h"), clock=lambda: NOW, id_source=uuid.uuid4)
    return BmisLink(outbox, connection_factory=lambda *a: None)


def stored(link: BmisLink, kind: MessageKind) -> list[dict]:
    return [json.loads(m.payload) for m in link.outbox.next_batch(100) if m.kind is kind]


def test_health_carries_versions_certificate_and_last_update(tmp_path):
    bmis = link(tmp_path)
    bmis.publish_health({"lane": {"status": "ok"}}, uptime_s=3.0, info=INFO)
    [health] = stored(bmis, MessageKind.HEALTH)
    validate_message(MessageKind.HEALTH, health)
    assert health["schema"] == "health/1.2" and "not_a_field" not in health["data"]
    assert health["data"]["certificate"]["days_left"] == 29 and health["data"]["software_version"] == "0.2.0"


def test_info_that_does_not_fit_never_holds_back_the_health_itself(tmp_path):
    bmis = link(tmp_path)
    bmis.publish_health({"camera": {"status": "fault"}}, info={**INFO, "models": {"x": {"name": "y", "sha256": "zz"}}})
    [health] = stored(bmis, MessageKind.HEALTH)
    assert health["data"]["components"]["camera"]["status"] == "failed" and "models" not in health["data"]


def test_an_alarm_handed_over_twice_with_its_id_is_stored_once(tmp_path):
    bmis = link(tmp_path)
    alarm_id = uuid.uuid4()
    for _ in range(2):
        bmis.raise_alarm("update_rolled_back", Severity.WARNING, detail="0.3.0 not healthy", msg_id=alarm_id)
    [alarm] = stored(bmis, MessageKind.ALARM)
    assert alarm["msg_id"] == str(alarm_id) and alarm["data"]["kind"] == "update_rolled_back"


def test_the_periodic_health_carries_the_info_source(tmp_path):
    from tests.polling import wait_until
    from tests.test_bmis_mqtt import ScriptedConnection
    made = []

    def factory(callbacks, subscriptions, will):
        made.append(ScriptedConnection(callbacks, subscriptions, will))
        return made[-1]
    outbox = Outbox(tmp_path / "o.db", Identity("gate-h", "post-h"), clock=lambda: NOW, id_source=uuid.uuid4)
    bmis = BmisLink(outbox, connection_factory=factory, health_source=lambda: {"lane": {"status": "ok"}},
                    health_info=lambda: INFO, health_interval_s=0.05)
    bmis.start()
    try:
        assert wait_until(lambda: any(p[1].endswith("/health") for p in made[0].published), 5)
        health = json.loads(next(p[2] for p in made[0].published if p[1].endswith("/health")))
    finally:
        bmis.stop(drain_timeout_s=0)
    assert health["data"]["last_update"] == {"outcome": "rolled_back", "version": "0.3.0"}
