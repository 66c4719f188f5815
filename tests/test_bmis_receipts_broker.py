"""Receipts on a real mosquitto (TLS, client certificates, ACL): the BMIS confirms what it stored,
the broker's death after PUBACK loses nothing, the topic decides the device, and a refused
subscription is an alarm."""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from firmware_app.bmis.contract import Identity, MessageKind, build, build_receipt, encode
from firmware_app.bmis.link import BmisLink
from firmware_app.bmis.mqtt_client import Callbacks, MqttConnection
from firmware_app.bmis.outbox.queue import OutboxLimits
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from tests.broker_fixtures import DEVICES, PREFIX, bmis_consumer, broker, consumer_settings, device_settings, make_link  # noqa: F401
from tests.polling import wait_until
from tests.test_bmis_contract import CROSSING


def crossing(device_id: str, n: int) -> dict:
    return {**CROSSING, "transaction_id": f"tx-{n}", "device_id": device_id}


def start_broker(tmp_path, **options) -> MosquittoBroker:
    pki = make_test_pki(tmp_path / "pki", DEVICES)
    try:
        return MosquittoBroker(tmp_path / "broker", pki, prefix=PREFIX, **options).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))


def start_consumer(broker: MosquittoBroker, path) -> BmisConsumer:
    consumer = BmisConsumer(path, consumer_settings(broker), prefix=PREFIX)
    consumer.start()
    assert wait_until(lambda: consumer.connected, 10), "BMIS consumer did not connect"
    time.sleep(0.2)    # its subscriptions land before gates publish
    return consumer


def raw_client(broker, device_id: str, acks: dict, subscriptions=(), refused=None, messages=None) -> MqttConnection:
    callbacks = Callbacks(on_ack=lambda mid, code, name: acks.__setitem__(mid, code),
                          on_message=(messages.append if messages is not None else lambda m: None),
                          on_subscribe_refused=(lambda f, r: refused.append(f)) if refused is not None
                          else (lambda f, r: None))
    client = MqttConnection(device_settings(broker, device_id), callbacks, subscriptions=subscriptions)
    client.start()
    assert wait_until(lambda: client.connected, 10)
    return client


def test_the_bmis_receipts_what_it_stored_and_the_gate_then_forgets_it(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path, limits=OutboxLimits(receipt_timeout_s=60.0))
    link.start()
    try:
        ids = [link.record_crossing(crossing("gate-a", n)).msg_id for n in range(20)]
        assert wait_until(lambda: link.outbox.counts().unreceipted == 0 and link.outbox.counts().pending == 0, 20), \
            link.outbox.counts()
        assert set(ids) <= set(link.outbox.sent_ids())
        assert bmis_consumer.counts().receipts_sent >= 1 and link.invalid_receipts == 0
    finally:
        link.stop()


def test_only_the_bmis_writes_receipts_and_a_gate_reads_only_its_own(broker, tmp_path):
    acks: dict[int, int] = {}
    refused: list[str] = []
    seen: list = []
    gate_a = raw_client(broker, "gate-a", acks, subscriptions=("gates/v1/gate-b/receipt", "gates/v1/gate-a/receipt"),
                        refused=refused, messages=seen)
    bmis = MqttConnection(consumer_settings(broker, "bmis-writer"), Callbacks(
        on_ack=lambda mid, code, name: acks.__setitem__(("bmis", mid), code)))
    bmis.start()
    try:
        assert wait_until(lambda: bmis.connected, 10)
        time.sleep(0.3)
        forged = build_receipt([str(uuid.uuid4())], receipt_id=uuid.uuid4(), now=dt.datetime.now(dt.UTC))
        own = gate_a.publish("gates/v1/gate-a/receipt", forged)
        other = gate_a.publish("gates/v1/gate-b/receipt", forged)
        assert wait_until(lambda: own in acks and other in acks, 10)
        assert acks[own] >= 0x80 and acks[other] >= 0x80, "a gate must not publish receipts"
        for device in ("gate-a", "gate-b"):
            mid = bmis.publish(f"gates/v1/{device}/receipt", forged)
            assert wait_until(lambda mid=mid: ("bmis", mid) in acks, 10) and acks[("bmis", mid)] < 0x80
        assert wait_until(lambda: len(seen) >= 1, 5)
        time.sleep(0.3)
        assert [m.topic for m in seen] == ["gates/v1/gate-a/receipt"], "gate-a read another gate's receipt"
        assert refused in ([], ["gates/v1/gate-b/receipt"])    # mosquitto may refuse the filter or filter reads
    finally:
        gate_a.stop()
        bmis.stop()


@pytest.mark.parametrize("receipts", [True, False], ids=["receipts", "puback-only"])
def test_crossings_survive_a_broker_killed_after_puback_with_persistence_off(tmp_path, receipts):
    """The defect of issue 10: consumer offline, crossings PUBACKed into its session queue, broker
    SIGKILLed without persistence, restarted, consumer back. With receipts every crossing arrives
    exactly once after de-duplication; with PUBACK alone (the old behaviour) they are lost."""
    total = 25
    broker = start_broker(tmp_path, persistence=False)
    consumer = start_consumer(broker, tmp_path / "bmis.db")
    consumer.stop()                       # offline; its persistent session keeps the subscriptions
    link = make_link(broker, tmp_path, limits=OutboxLimits(receipt_timeout_s=2.0 if receipts else None))
    link.start()
    try:
        ids = {link.record_crossing(crossing("gate-a", n)).msg_id for n in range(total)}
        assert wait_until(lambda: link.outbox.counts().pending == 0, 20), "the broker did not PUBACK"
        broker.kill()
        broker.start()
        consumer = start_consumer(broker, tmp_path / "bmis.db")
        settled = (lambda: link.outbox.counts().unreceipted == 0) if receipts else (lambda: False)
        wait_until(settled, 30 if receipts else 3)    # PUBACK only: give a lost record time to show up anyway
        arrived = [m["msg_id"] for m in consumer.messages(kind="events/crossing")]
        counts = consumer.counts()
        print(f"\n{'receipts' if receipts else 'PUBACK only'}: {total} crossings published and PUBACKed, "
              f"{len(set(arrived) & ids)} arrived after the broker was SIGKILLed, {counts.duplicates} duplicates "
              f"removed, gate still holds {link.outbox.counts().unreceipted + link.outbox.counts().pending}")
        if receipts:
            assert sorted(arrived) == sorted(ids), "not every crossing arrived exactly once"
            assert link.outbox.counts().unreceipted == 0 and counts.invalid == 0
        else:
            assert len(set(arrived) & ids) < total, "the fault did not reproduce: the test would prove nothing"
    finally:
        link.stop()
        consumer.stop()
        broker.stop()


def test_the_consumer_takes_the_device_from_the_topic(broker, bmis_consumer, tmp_path):
    acks: dict[int, int] = {}
    gate_a = raw_client(broker, "gate-a", acks)
    try:
        now = dt.datetime.now(dt.UTC)
        claims_b = build(Identity("gate-b", "post-t", PREFIX), MessageKind.CROSSING, crossing("gate-b", 1),
                         msg_id=uuid.uuid4(), seq=1, boot=1, now=now)
        honest = build(Identity("gate-a", "post-t", PREFIX), MessageKind.CROSSING, crossing("gate-a", 2),
                       msg_id=uuid.uuid4(), seq=2, boot=1, now=now)
        for message in (claims_b, honest):
            gate_a.publish("gates/v1/gate-a/events/crossing", encode(message))
        assert wait_until(lambda: bmis_consumer.counts().stored + bmis_consumer.counts().invalid >= 2, 10)
        assert bmis_consumer.messages(device_id="gate-b") == []
        assert [m["msg_id"] for m in bmis_consumer.messages(device_id="gate-a")] == [honest["msg_id"]]
        counts = bmis_consumer.counts()
        assert (counts.device_mismatch, counts.invalid) == (1, 1)
    finally:
        gate_a.stop()


def test_a_refused_command_subscription_is_an_alarm_and_health_degraded(tmp_path):
    """mosquitto 2.0's acl_file grants every SUBSCRIBE and filters at delivery, so the refusal (what
    brokers with subscribe ACLs answer: SUBACK 0x87) comes from the scripted connection here."""
    from tests.test_bmis_mqtt import ScriptedConnection, make_outbox
    made: list[ScriptedConnection] = []

    def factory(callbacks, subscriptions, will):
        made.append(ScriptedConnection(callbacks, subscriptions, will))
        return made[-1]
    link = BmisLink(make_outbox(tmp_path), connection_factory=factory,
                    health_source=lambda: {"reader": {"status": "ok"}})
    link.start()
    try:
        made[0].callbacks.on_subscribe_refused("gates/v1/gate-u/cmd/#", "Not authorized")
        made[0].callbacks.on_subscribe_refused("gates/v1/gate-u/cmd/#", "Not authorized")   # on every reconnect
        stored = [json.loads(m.payload) for m in link.outbox.next_batch(100)]
        alarms = [m["data"] for m in stored if m["schema"].startswith("alarms/")]
        assert [a["kind"] for a in alarms] == ["subscription_refused"] and alarms[0]["severity"] == "critical"
        health = [m["data"] for m in stored if m["schema"].startswith("health/")][-1]
        assert health["components"]["bmis_link"] == {
            "status": "degraded", "detail": "subscription_refused_commands",
            "note": "subscription_refused_commands: gates/v1/gate-u/cmd/#: Not authorized"}
        assert health["components"]["reader"] == {"status": "ok"}
        made[0].callbacks.on_subscribed("gates/v1/gate-u/cmd/#")           # granted after the ACL was fixed
        stored = [json.loads(m.payload) for m in link.outbox.next_batch(100)]
        assert [m["data"]["active"] for m in stored if m["schema"].startswith("alarms/")] == [True, False]
        assert "bmis_link" not in [m["data"] for m in stored if m["schema"].startswith("health/")][-1]["components"]
    finally:
        link.stop(drain_timeout_s=0)


def test_reconnect_drops_and_remakes_the_connection_and_nothing_is_lost(broker, bmis_consumer, tmp_path):
    """What the pump does when the broker stops acknowledging on a live connection."""
    link = make_link(broker, tmp_path)
    connects: list[bool] = []
    link.start()
    try:
        assert wait_until(lambda: link.connected, 10)
        original = link._on_connected
        link._connection._callbacks = link._connection._callbacks.__class__(
            **{**link._connection._callbacks.__dict__, "on_connected": lambda s: (connects.append(s), original(s))})
        ids = [link.record_crossing(crossing("gate-a", n)).msg_id for n in range(10)]
        link._connection.reconnect()
        assert wait_until(lambda: connects and link.connected, 10), "paho did not connect again"
        ids += [link.record_crossing(crossing("gate-a", n)).msg_id for n in range(10, 20)]
        assert wait_until(lambda: set(ids) <= {m["msg_id"] for m in bmis_consumer.messages()}, 20)
        assert wait_until(lambda: link.outbox.counts().unreceipted == 0 and link.outbox.counts().pending == 0, 20)
    finally:
        link.stop()
