"""Pump and link logic against a scripted connection (no broker): acknowledgement rules, window,
ack/publish races, retries, commands. The real broker runs in test_bmis_broker.py."""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.contract import Identity, MessageKind, validate_message
from firmware_app.bmis.errors import MqttSettingsError, OutboxFull
from firmware_app.bmis.link import BmisLink, Severity
from firmware_app.bmis.mqtt_client import BrokerConnection, Incoming, MqttConnection, MqttSettings
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.pump import OutboxPump

IDENTITY = Identity("gate-u", "post-u")


class ScriptedConnection(BrokerConnection):
    """Records publishes; the test decides when and how each is acknowledged."""

    def __init__(self, callbacks=None, subscriptions=(), will=None, *, early_ack: int | None = None):
        self.callbacks, self.subscriptions, self.will = callbacks, subscriptions, will
        self.connected = True
        self.published: list[tuple[int, str, bytes, bool, bytes | None]] = []
        self._mid, self._early_ack, self.pump = 0, early_ack, None

    def start(self):
        pass

    def stop(self):
        self.connected = False

    def publish(self, topic, payload, *, retain=False, correlation=None, response_topic=None):
        self._mid += 1
        self.published.append((self._mid, topic, payload, retain, correlation))
        if self._early_ack is not None and self.pump is not None:
            self.pump.on_ack(self._mid, self._early_ack, "early")  # ack overtakes the registration
        return self._mid


def make_outbox(tmp_path, limits=OutboxLimits()):
    counter = iter(range(1, 10**6))
    return Outbox(tmp_path / "o.db", IDENTITY, clock=lambda: dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
                  id_source=lambda: uuid.UUID(int=next(counter)), limits=limits)


def event(n: int) -> dict:
    return {"kind": "door_forced", "severity": "critical", "transaction_id": f"t{n}"}


def test_window_bounds_messages_in_flight(tmp_path):
    box = make_outbox(tmp_path)
    for n in range(10):
        box.add(MessageKind.EXCEPTION, event(n))
    pump, conn = OutboxPump(box, window=4), ScriptedConnection()
    pump.attach(conn)
    assert pump.step() == 4 and pump.in_flight == 4
    assert pump.step() == 0
    pump.on_ack(1, 0, "Success")
    assert pump.step() == 1
    assert box.counts().pending == 9


def test_success_codes_mark_sent_failures_dead_letter(tmp_path):
    box = make_outbox(tmp_path)
    for n in range(3):
        box.add(MessageKind.EXCEPTION, event(n))
    refused = []
    pump = OutboxPump(box, on_refused=lambda m, code, name: refused.append((m.seq, code)))
    pump.attach(conn := ScriptedConnection())
    pump.step()
    pump.on_ack(1, 0x00, "Success")
    pump.on_ack(2, 0x87, "Not authorized")
    pump.on_ack(3, 0x97, "Quota exceeded")
    pump.step()
    assert box.counts().pending == 0 and box.counts().dead_letters == 2
    assert refused == [(2, 0x87), (3, 0x97)]
    assert len(conn.published) == 3


def test_no_matching_subscribers_pauses_events_but_not_retained_status(tmp_path):
    now = [0.0]
    box = make_outbox(tmp_path)
    box.add(MessageKind.STATUS, {"state": "online"})
    box.add(MessageKind.EXCEPTION, event(1))
    pump = OutboxPump(box, retry_delay_s=1.0, max_retry_delay_s=3.0, monotonic=lambda: now[0])
    pump.attach(conn := ScriptedConnection())
    pump.step()
    pump.on_ack(1, 0x10, "No matching subscribers")   # retained status: stored by the broker, done
    pump.on_ack(2, 0x10, "No matching subscribers")   # event: nobody got it
    box.add(MessageKind.HEALTH, {"components": {}})
    assert pump.step() == 1 and conn.published[-1][1].endswith("/health")
    assert [m.kind for m in box.next_batch(5)] == [MessageKind.HEALTH, MessageKind.EXCEPTION]
    now[0] = 1.5
    assert pump.step() == 1 and conn.published[-1][1].endswith("events/exception")
    pump.on_ack(4, 0x10, "No matching subscribers")   # again: the pause doubles
    now[0] = 2.5
    assert pump.step() == 0
    now[0] = 3.6
    assert pump.step() == 1
    pump.on_ack(5, 0x00, "Success")
    pump.step()
    assert [m.kind for m in box.next_batch(5)] == [MessageKind.HEALTH]
    assert pump.retries_no_subscribers == 2


def test_an_ack_that_overtakes_its_registration_is_not_lost(tmp_path):
    box = make_outbox(tmp_path)
    box.add(MessageKind.EXCEPTION, event(1))
    pump, conn = OutboxPump(box), ScriptedConnection(early_ack=0)
    conn.pump = pump
    pump.attach(conn)
    pump.step()
    pump.step()
    assert box.counts().pending == 0 and pump.in_flight == 0


def test_nothing_is_published_while_disconnected(tmp_path):
    box = make_outbox(tmp_path)
    box.add(MessageKind.EXCEPTION, event(1))
    pump, conn = OutboxPump(box), ScriptedConnection()
    conn.connected = False
    pump.attach(conn)
    assert pump.step() == 0 and conn.published == []


def link_with(tmp_path, handler=None, limits=OutboxLimits()):
    made: list[ScriptedConnection] = []

    def factory(callbacks, subscriptions, will):
        made.append(ScriptedConnection(callbacks, subscriptions, will))
        return made[-1]
    kwargs = {"handle_command": handler} if handler else {}
    link = BmisLink(make_outbox(tmp_path, limits), connection_factory=factory, **kwargs)
    return link, made


def test_link_subscribes_to_its_commands_and_sets_an_offline_will(tmp_path):
    link, made = link_with(tmp_path)
    link.start()
    try:
        conn = made[0]
        assert conn.subscriptions == ("gates/v1/gate-u/cmd/#", "gates/v1/gate-u/receipt")
        will = json.loads(conn.will.payload)
        validate_message(MessageKind.STATUS, will)
        assert will["data"]["state"] == "offline" and conn.will.retain
    finally:
        link.stop(drain_timeout_s=0)


def answers(link) -> list[dict]:
    return [json.loads(m.payload)["data"] for m in link.outbox.next_batch(100) if m.kind is MessageKind.CMD_RESULT]


def run_commands(link, incoming: list[Incoming]) -> None:
    for item in incoming:
        link.commands.answer(item, link.commands.run(item))


def test_default_handler_nacks_and_answers_on_the_response_topic_with_correlation(tmp_path):
    link, _ = link_with(tmp_path)
    run_commands(link, [Incoming("gates/v1/gate-u/cmd/set-mode", b"{}", "gates/v1/gate-u/cmd-result/bmis-7", b"c1"),
                        Incoming("gates/v1/gate-u/cmd/x", b"{}", "gates/v1/gate-OTHER/cmd-result", b"c2")])
    results = [m for m in link.outbox.next_batch(10) if m.kind is MessageKind.CMD_RESULT]
    assert [r.topic for r in results] == ["gates/v1/gate-u/cmd-result/bmis-7", "gates/v1/gate-u/cmd-result"]
    assert [r.correlation for r in results] == [b"c1", b"c2"]
    assert all(json.loads(r.payload)["data"]["reason"] == "not_implemented" for r in results)


def test_handler_returning_garbage_gets_a_valid_nack(tmp_path):
    link, _ = link_with(tmp_path, handler=lambda *a: {"status": "maybe"})
    run_commands(link, [Incoming("gates/v1/gate-u/cmd/x", b"{}", None, None)])
    assert answers(link)[-1]["reason"] == "internal_error"


def test_outbox_full_raises_an_alarm_once_and_reraises(tmp_path):
    link, _ = link_with(tmp_path, limits=OutboxLimits(max_messages=100, reserve_messages=5))
    for n in range(100):
        link.record_exception(event(n))
    for _ in range(3):
        with pytest.raises(OutboxFull):
            link.record_exception(event(999))
    alarms = [json.loads(m.payload)["data"] for m in link.outbox.next_batch(200) if m.kind is MessageKind.ALARM]
    assert [a["kind"] for a in alarms] == ["outbox_full"] and alarms[0]["active"] is True
    link.outbox.receipted([m.msg_id for m in link.outbox.next_batch(50) if m.kind is MessageKind.EXCEPTION])
    link.record_exception(event(1000))
    alarms = [json.loads(m.payload)["data"] for m in link.outbox.next_batch(200) if m.kind is MessageKind.ALARM]
    assert [a["active"] for a in alarms] == [True, False]


def test_alarm_api_validates(tmp_path):
    link, _ = link_with(tmp_path)
    stored = link.raise_alarm("door_forced", Severity.CRITICAL, detail="door 1")
    validate_message(MessageKind.ALARM, json.loads(stored.payload))


@settings(max_examples=60, deadline=None)
@given(topic=st.text(max_size=60), payload=st.binary(max_size=200),
       response=st.none() | st.text(max_size=60), correlation=st.none() | st.binary(max_size=16))
def test_hostile_commands_never_crash_the_link(tmp_path_factory, topic, payload, response, correlation):
    link, _ = link_with(tmp_path_factory.mktemp("fuzz"))
    run_commands(link, [Incoming(topic, payload, response, correlation)])
    assert answers(link)[-1]["status"] == "nack"
    link.outbox.close()


def test_missing_tls_files_are_a_settings_error(tmp_path):
    settings_ = MqttSettings(host="127.0.0.1", port=1, client_id="x", ca_file=tmp_path / "nope.pem")
    with pytest.raises(MqttSettingsError):
        MqttConnection(settings_, callbacks=None)


def test_the_lane_outbox_port_stores_valid_messages(tmp_path):
    from firmware_app.appliance.bmis_side import LaneOutbox
    from firmware_app.lane import actions as lane_actions
    from firmware_app.lane.record import CrossingRecord, PassageFields
    from tests.test_bmis_contract import NOW
    link, _ = link_with(tmp_path)
    port = LaneOutbox(link)
    port.crossing(CrossingRecord("tx-1", "gate-u", "entry", "normal", "abandoned", NOW, NOW, None, None, None, None,
                                 None, PassageFields(False, None, 0)))
    for kind in lane_actions.ExceptionKind:
        port.exception(kind, "tx-1", "stage chip")
    for kind in lane_actions.AlarmKind:
        port.alarm(kind, None, "")
    stored = link.outbox.next_batch(100)
    assert len(stored) == 1 + len(lane_actions.ExceptionKind) + len(lane_actions.AlarmKind)
    for message in stored:
        validate_message(message.kind, json.loads(message.payload))


def test_health_is_published_periodically_while_connected(tmp_path):
    made = []

    def factory(callbacks, subscriptions, will):
        made.append(ScriptedConnection(callbacks, subscriptions, will))
        return made[-1]
    link = BmisLink(make_outbox(tmp_path), connection_factory=factory,
                    health_source=lambda: {"reader": {"status": "ok"}, "camera": {"status": "failed"}},
                    health_interval_s=0.05)
    link.start()
    try:
        from tests.polling import wait_until
        assert wait_until(lambda: sum(p[1].endswith("/health") for p in made[0].published) >= 2, 5)
        payload = next(p[2] for p in made[0].published if p[1].endswith("/health"))
        health = json.loads(payload)
        validate_message(MessageKind.HEALTH, health)
        assert health["data"]["components"]["camera"]["status"] == "failed"
        made[0].connected = False
        published = len(made[0].published)
        import time
        time.sleep(0.2)
        assert len(made[0].published) == published
    finally:
        link.stop(drain_timeout_s=0)


def test_a_failing_command_handler_logs_no_payload_text_above_debug(tmp_path, caplog):
    def handler(topic, payload, response_topic, correlation):
        raise KeyError("ERIKSSON ANNA 740812")     # a bug that echoes an alert-list entry
    link, _ = link_with(tmp_path, handler=handler)
    with caplog.at_level(logging.DEBUG, logger="firmware_app"):
        run_commands(link, [Incoming("gates/v1/gate-u/cmd/alerts-replace", b"{}", None, None)])
    assert answers(link)[-1]["reason"] == "internal_error"
    loud = [r.getMessage() + str(r.exc_info) for r in caplog.records if r.levelno > logging.DEBUG]
    assert loud and not any("ERIKSSON" in text for text in loud)
    assert any("ERIKSSON" in str(r.exc_info) for r in caplog.records if r.levelno == logging.DEBUG)
    link.outbox.close()


class FlakyOutbox:
    """An outbox whose next `fail` calls of `method` raise OutboxError (disk full, locked database)."""

    def __init__(self, box, method: str, fail: int = 1):
        self._box, self._method, self._fail = box, method, fail

    def __getattr__(self, name):
        real = getattr(self._box, name)
        if name != self._method:
            return real

        def flaky(*args, **kwargs):
            if self._fail > 0:
                self._fail -= 1
                from firmware_app.bmis.errors import OutboxError
                raise OutboxError("disk I/O error")
            return real(*args, **kwargs)
        return flaky


@pytest.mark.parametrize("method", ["mark_sent", "next_batch", "dead_letter"])
def test_a_transient_outbox_error_does_not_stop_the_pump_thread(tmp_path, method):
    import threading
    box = make_outbox(tmp_path)
    box.add(MessageKind.EXCEPTION, event(1))
    conn = ScriptedConnection(early_ack=0x87 if method == "dead_letter" else 0)
    pump = OutboxPump(FlakyOutbox(box, method), retry_delay_s=0.01)
    conn.pump = pump
    pump.attach(conn)
    stop = threading.Event()
    worker = threading.Thread(target=pump.run, args=(stop,), kwargs={"idle_s": 0.01}, daemon=True)
    worker.start()
    try:
        for _ in range(500):
            if box.counts().pending == 0 or not worker.is_alive():
                break
            stop.wait(0.01)
        assert worker.is_alive(), "the pump thread died on an outbox error"
        assert box.counts().pending == 0
    finally:
        stop.set()
        pump.notify()
        worker.join(timeout=5)


def _self_signed_ca(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


class RecordingClient:
    def subscribe(self, topic_filter, qos=0):
        pass


@pytest.mark.parametrize("receive_maximum", [5, None])
def test_the_connection_reports_the_brokers_receive_maximum(tmp_path, receive_maximum):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

    from firmware_app.bmis.mqtt_client import Callbacks
    settings_ = MqttSettings(host="127.0.0.1", port=1, client_id="x", ca_file=_self_signed_ca(tmp_path / "ca.pem"))
    connection = MqttConnection(settings_, Callbacks(on_ack=lambda mid, code, name: None))
    properties = Properties(PacketTypes.CONNACK)
    if receive_maximum is not None:
        properties.ReceiveMaximum = receive_maximum
        properties.MaximumPacketSize = 4096
        properties.RetainAvailable = 0

    class Flags:
        session_present = False
    connection._on_connect(RecordingClient(), None, Flags(), ReasonCode(PacketTypes.CONNACK, "Success"), properties)
    assert connection.receive_maximum == receive_maximum and connection.connected
    assert connection.maximum_packet_size == (4096 if receive_maximum else None)
    assert connection.retain_available is (receive_maximum is None)


@pytest.mark.parametrize("receive_maximum, expected", [(3, 3), (100, 8), (None, 8)])
def test_in_flight_window_respects_the_brokers_receive_maximum(tmp_path, receive_maximum, expected):
    # MQTT 5 (3.3.4): never more unacknowledged QoS 1 publishes than the broker's Receive Maximum,
    # else a strict broker disconnects (0x93) and the backlog resend repeats it forever.
    box = make_outbox(tmp_path)
    for n in range(10):
        box.add(MessageKind.EXCEPTION, event(n))
    pump, conn = OutboxPump(box, window=8), ScriptedConnection()
    conn.receive_maximum = receive_maximum
    pump.attach(conn)
    assert pump.step() == expected and pump.step() == 0
    pump.on_ack(1, 0, "Success")
    assert pump.step() == 1 and pump.in_flight == expected


def test_a_message_over_the_brokers_maximum_packet_size_is_dead_lettered_not_sent(tmp_path):
    # MQTT 5 (3.1.2.24): a packet over the broker's Maximum Packet Size makes it disconnect (0x95);
    # resent after every reconnect, the message would block the link forever.
    box = make_outbox(tmp_path)
    small = box.add(MessageKind.EXCEPTION, event(1))
    big = box.add(MessageKind.EXCEPTION, {**event(2), "detail": "x" * 500})
    refused = []
    pump = OutboxPump(box, on_refused=lambda m, code, name: refused.append((m.msg_id, code)))
    conn = ScriptedConnection()
    conn.maximum_packet_size = len(small.payload) + len(small.topic) + 64
    pump.attach(conn)
    assert pump.step() == 1 and [p[2] for p in conn.published] == [small.payload]
    pump.step()
    assert refused == [(big.msg_id, 0x95)] and box.counts().dead_letters == 1


def test_retained_messages_go_out_unretained_when_the_broker_has_no_retain(tmp_path):
    # MQTT 5 (3.2.2.3.5): with Retain Available 0 a retained PUBLISH gets the client disconnected (0x9A);
    # status would then block the link on every reconnect.
    box = make_outbox(tmp_path)
    box.add(MessageKind.STATUS, {"state": "online"})
    pump, conn = OutboxPump(box), ScriptedConnection()
    conn.retain_available = False
    pump.attach(conn)
    assert pump.step() == 1 and conn.published[0][3] is False
    conn.retain_available = True
    box.add(MessageKind.STATUS, {"state": "online"})
    assert pump.step() == 1 and conn.published[1][3] is True
