"""A hostile MQTT peer on real mosquitto: oversized packets never reach the gate's parser, and a
message whose properties would hold paho's network thread is acknowledged and dropped once."""
from __future__ import annotations

import dataclasses
import ssl
import time

import paho.mqtt.client as paho
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_app.bmis.link import Severity
from firmware_app.bmis.mqtt_client import publish_property_length
from firmware_app.bmis.wiring import connection_factory
from simulator.bmis_broker import MAX_PACKET_SIZE
from tests.broker_fixtures import bmis_consumer, broker, device_settings, make_link  # noqa: F401  (fixtures)
from tests.polling import wait_until

CMD = "gates/v1/gate-a/cmd/set-mode"


def raw_bmis_client(broker, device: str | None = None) -> paho.Client:
    """The BMIS account (or a gate's certificate), speaking paho directly, to send what our own
    code never would."""
    ep = broker.endpoints
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=device or "hostile", protocol=paho.MQTTv5)
    pair = broker.pki.devices[device] if device else None
    client.tls_set(ca_certs=str(ep.ca_file), certfile=pair and str(pair.cert), keyfile=pair and str(pair.key),
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    if device is None:
        client.username_pw_set(ep.bmis_user, ep.bmis_password)
    client.connect(ep.host, broker.device_port if device else ep.bmis_port)
    client.loop_start()
    assert wait_until(client.is_connected), "hostile client did not connect"
    return client


def with_user_properties(count: int) -> Properties:
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = [("k", "v")] * count
    properties.CorrelationData = b"hostile"
    return properties


def gate_link(broker, tmp_path, **settings_changes):
    link = make_link(broker, tmp_path)
    settings = dataclasses.replace(device_settings(broker, "gate-a"), **settings_changes)
    link._factory = connection_factory(settings)
    disconnects: list[str] = []
    link._on_disconnected = disconnects.append
    return link, disconnects


def test_the_shipped_broker_config_caps_the_packet_size(broker):
    config = (broker.workdir / "mosquitto.conf").read_text()
    assert f"max_packet_size {MAX_PACKET_SIZE}" in config


def test_a_command_over_the_announced_maximum_never_reaches_the_gate(broker, bmis_consumer, tmp_path):
    link, disconnects = gate_link(broker, tmp_path, max_packet_size=64 * 1024)
    link.start()
    try:
        assert wait_until(lambda: link.listening)   # SUBACKed: a command now reaches the gate
        bmis_consumer.publish_raw(CMD, b"x" * (1024 * 1024), correlation=b"big")     # the broker accepts it
        correlation = bmis_consumer.send_command("gate-a", "request_status", {})
        assert bmis_consumer.wait_result(correlation, 10) is not None               # still connected, working
        assert link._connection.largest_publish_received < 64 * 1024                 # the big one never came
        assert bmis_consumer.wait_result(b"big", 0.5) is None and disconnects == []
    finally:
        link.stop()


def test_many_user_properties_are_acked_and_dropped_once_in_bounded_time(broker, bmis_consumer, tmp_path):
    link, disconnects = gate_link(broker, tmp_path)
    link.start()
    hostile = raw_bmis_client(broker)
    try:
        assert wait_until(lambda: link.listening)   # SUBACKed: a command now reaches the gate
        started = time.monotonic()
        hostile.publish(CMD, b"{}", qos=1, properties=with_user_properties(20_000))   # ~140 KB of properties
        assert wait_until(lambda: _alarms(bmis_consumer, "command_dropped") == 1, 20)
        print(f"\n20,000 user properties: dropped and alarmed after {time.monotonic() - started:.2f} s")
        dead = [d for d in link.outbox.dead_letters() if d["kind"] == "INCOMING"]
        assert [(d["topic"], d["reason_code"]) for d in dead] == [(CMD, 0x83)]
        correlation = bmis_consumer.send_command("gate-a", "request_status", {})
        assert bmis_consumer.wait_result(correlation, 10) is not None and disconnects == []
        link.stop()                          # a reconnect with the persistent session: no redelivery
        link, _ = gate_link(broker, tmp_path)
        link.start()
        assert wait_until(lambda: link.listening)   # SUBACKed: a command now reaches the gate
        time.sleep(1.0)
        assert _alarms(bmis_consumer, "command_dropped") == 1
        assert len([d for d in link.outbox.dead_letters() if d["kind"] == "INCOMING"]) == 1
    finally:
        hostile.loop_stop()
        hostile.disconnect()
        link.stop()


def test_user_properties_within_the_bound_are_parsed_and_the_command_answered(broker, bmis_consumer, tmp_path):
    link, _ = gate_link(broker, tmp_path)
    link.start()
    hostile = raw_bmis_client(broker)
    try:
        assert wait_until(lambda: link.listening)   # SUBACKed: a command now reaches the gate
        properties = with_user_properties(1_000)    # 7 KB: within MAX_PUBLISH_PROPERTY_BYTES
        properties.ResponseTopic = "gates/v1/gate-a/cmd-result"
        hostile.publish(CMD, b"{}", qos=1, properties=properties)
        assert bmis_consumer.wait_result(b"hostile", 10) is not None
        assert _alarms(bmis_consumer, "command_dropped") == 0
    finally:
        hostile.loop_stop()
        hostile.disconnect()
        link.stop()


def test_a_gate_certificate_cannot_stall_the_reference_consumer(broker, bmis_consumer, tmp_path, caplog):
    hostile = raw_bmis_client(broker, "gate-b")
    link, _ = gate_link(broker, tmp_path)
    link.start()
    try:
        hostile.publish("gates/v1/gate-b/alarms", b"{}", qos=1, properties=with_user_properties(20_000))
        started = time.monotonic()
        sent = link.raise_alarm("tamper", Severity.CRITICAL).msg_id
        assert wait_until(lambda: sent in {m["msg_id"] for m in bmis_consumer.messages("alarms")}, 10)
        print(f"\nconsumer: gate-a's alarm stored {time.monotonic() - started:.2f} s after gate-b's hostile message")
        assert wait_until(lambda: "gates/v1/gate-b/alarms dropped unparsed" in caplog.text, 5)
        assert bmis_consumer.counts().invalid == 0
    finally:
        hostile.loop_stop()
        hostile.disconnect()
        link.stop()


def _alarms(consumer, kind: str) -> int:
    return sum(1 for m in consumer.messages("alarms") if m["data"]["kind"] == kind)


def _publish_packet(qos: int, topic: bytes, properties: bytes, payload: bytes) -> tuple[int, bytes]:
    header = 0x30 | (qos << 1)
    mid = b"\x00\x07" if qos else b""
    return header, len(topic).to_bytes(2, "big") + topic + mid + properties + payload


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2), st.binary(max_size=40), st.integers(0, 300), st.binary(max_size=20))
def test_the_property_length_is_read_as_paho_reads_it(qos, topic, user_properties, payload):
    properties = with_user_properties(user_properties).pack() if user_properties else b"\x00"
    header, packet = _publish_packet(qos, topic, properties, payload)
    length = publish_property_length(header, packet)
    vbi_size = 1 if length < 128 else 2 if length < 16384 else 3
    assert length + vbi_size == Properties(PacketTypes.PUBLISH).unpack(properties)[1] == len(properties)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=64))
def test_any_bytes_give_a_length_or_none_without_raising(header, packet):
    length = publish_property_length(header, packet)
    assert length is None or 0 <= length < 2**28


def test_the_gate_announces_its_largest_command_as_maximum_packet_size(tmp_path):
    from firmware_app.bmis.wiring import mqtt_settings
    from firmware_app.config.load import parse_config
    (tmp_path / "ca.pem").write_text("")
    config = parse_config(f'[device]\nid = "gate-a"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                          f'[bmis]\nca_file = "{tmp_path / "ca.pem"}"\ncommand_max_payload_mb = 2\n')
    assert mqtt_settings(config).max_packet_size == 2 * 1024 * 1024 + 64 * 1024


def test_listening_means_subscribed_and_ends_with_the_connection(broker, tmp_path):
    link, _ = gate_link(broker, tmp_path)
    link.start()
    try:
        assert wait_until(lambda: link.listening, 10)
        assert link._connection.subscriptions_answered
        broker.stop()
        assert wait_until(lambda: not link.connected, 10) and not link.listening
    finally:
        link.stop()
