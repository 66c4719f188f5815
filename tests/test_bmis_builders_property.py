"""Every message the appliance can build passes its own schema (issue 10: health with a faulted
component was refused by health.json, so the BMIS kept showing the last retained "ok").

Each builder is driven with what its callers can hand it: any component report, any lane state
and mode, every lane alarm and exception kind with any detail text, any refusal from the broker,
any command payload. The outbox validates every message before storing it, so a builder that
can produce an invalid message raises ContractViolation here."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.appliance.bmis_side import LaneOutbox, LaneStatus
from firmware_app.bmis.contract import Identity, MessageKind, validate_message
from firmware_app.bmis.health import ComponentStatus
from firmware_app.bmis.link import BmisLink, GateState
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits, PendingMessage
from firmware_app.lane.actions import AlarmKind, ExceptionKind
from firmware_app.lane.state import Fault, State
from firmware_app.policy.modes import LaneMode

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
free_text = st.text(max_size=300)
status_words = st.one_of(st.sampled_from(["ok", "fault", "failed", "degraded", "unknown", "error", "OK "]),
                         st.sampled_from(list(ComponentStatus)), free_text, st.none(), st.integers())
component = st.fixed_dictionaries({"status": status_words},
                                  optional={"detail": st.one_of(free_text, st.sampled_from([f.value for f in Fault])),
                                            "note": free_text})
components = st.dictionaries(st.one_of(free_text, st.sampled_from(["camera", "bmis_link", "lane"])), component,
                             max_size=80)


class _NoConnection:
    connected = False

    def start(self):
        pass

    def stop(self):
        pass


def new_link(tmp_path) -> BmisLink:
    path = tmp_path / f"{uuid.uuid4()}.db"
    outbox = Outbox(path, Identity("gate-p", "post-p"), clock=lambda: NOW, id_source=uuid.uuid4,
                    limits=OutboxLimits(max_messages=10_000))
    return BmisLink(outbox, connection_factory=lambda callbacks, subscriptions, will: _NoConnection())


def stored(link: BmisLink) -> list[dict]:
    messages = []
    for pending in link.outbox.next_batch(10_000):
        message = json.loads(pending.payload)
        validate_message(pending.kind, message)       # stored means validated; checked again here
        messages.append(message)
    return messages


@PROPERTY
@given(components, st.booleans(), st.lists(st.tuples(free_text, free_text), max_size=3))
def test_health_from_any_component_report_passes_its_schema(tmp_path, report, ack_timeout, refusals):
    link = new_link(tmp_path)
    for topic_filter, reason in refusals:
        link._subscription_refused(topic_filter, reason)
    if ack_timeout:
        link._ack_timeout(3)
    link.publish_health(report, uptime_s=12.5)
    health = [m["data"] for m in stored(link) if m["schema"].startswith("health/")][-1]
    faulted = [name for name, value in report.items() if value["status"] in ("fault", ComponentStatus.FAILED)]
    assert len(health["components"]) <= 65
    if faulted and len(report) <= 64:
        assert "failed" in {c["status"] for c in health["components"].values()}, "a fault must reach the BMIS"


@PROPERTY
@given(st.sampled_from(list(State)), st.sampled_from(list(LaneMode)),
       st.sampled_from([None, "bmis_link_not_configured"]),
       st.sampled_from(["entry", "exit"]))
def test_status_for_every_lane_state_and_mode_passes_its_schema(tmp_path, state, mode, note, direction):
    link = new_link(tmp_path)
    LaneStatus(link.set_status, direction, lambda: note).update(state.value, mode.value)
    link.set_status(GateState.OFFLINE, reason="connection_lost")
    assert len(stored(link)) >= 1


@PROPERTY
@given(st.sampled_from(list(AlarmKind)), st.sampled_from(list(ExceptionKind)), free_text,
       st.one_of(st.none(), st.uuids().map(str)))
def test_lane_alarms_and_exceptions_with_any_detail_pass_their_schemas(tmp_path, alarm, exception, detail, txn_id):
    link = new_link(tmp_path)
    port = LaneOutbox(link)
    port.alarm(alarm, txn_id, detail)
    port.exception(exception, txn_id, detail)
    assert len(stored(link)) == 2


@PROPERTY
@given(st.sampled_from(list(MessageKind)), st.integers(min_value=0, max_value=255), free_text)
def test_the_links_own_alarms_pass_their_schema(tmp_path, kind, code, name):
    link = new_link(tmp_path)
    refused = PendingMessage(str(uuid.uuid4()), kind, 1, "t", b"{}", False, None, 3)
    link._message_refused(refused, code, name)
    link._ack_timeout(code)
    link._acks_committed([])
    link._subscription_refused(name, name)
    assert len(stored(link)) >= 3 - (kind is MessageKind.ALARM)


command_bodies = st.fixed_dictionaries(
    {"command_id": st.one_of(st.text(min_size=1, max_size=200), st.integers()),
     "issued_at": st.sampled_from(["2026-11-26T11:59:00Z", "2026-11-26T13:00:00Z", "bad"]),
     "expires_at": st.sampled_from(["2026-11-26T12:05:00Z", "2026-11-26T11:00:00Z", "2030-01-01T00:00:00Z"])},
    optional={"operator_id": st.text(max_size=100), "params": st.dictionaries(st.text(max_size=10), st.one_of(
        st.text(max_size=80), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3)), max_size=5)})


@PROPERTY
@given(st.sampled_from(["set-mode", "override", "alerts-replace", "alerts-delta", "request-status", "reboot"]),
       command_bodies)
def test_every_command_answer_passes_its_schema(tmp_path, name, body):
    from firmware_app.bmis.alerts.store import AlertStore
    from firmware_app.bmis.commands.journal import CommandJournal
    from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
    from firmware_app.bmis.commands.signing import TrustStore
    from tests.test_bmis_broker import _Lane
    link = new_link(tmp_path)
    alerts = AlertStore.open(tmp_path / f"{uuid.uuid4()}-alerts.db", lambda: NOW)
    processor = CommandProcessor(CommandSettings("gates", "gate-p"), trust=TrustStore(),
                                 journal=CommandJournal.in_memory(), alerts=alerts, lane=_Lane(), clock=lambda: NOW)
    link.commands.handle = processor.handle
    from firmware_app.bmis.mqtt_client import Incoming
    incoming = Incoming(f"gates/v1/gate-p/cmd/{name}", json.dumps(body).encode(), None, b"c")
    link.commands.answer(incoming, link.commands.run(incoming))
    results = [m for m in stored(link) if m["schema"].startswith("cmd-result/")]
    assert len(results) == 1
