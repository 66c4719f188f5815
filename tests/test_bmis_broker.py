"""Gate <-> real mosquitto (TLS, client certificates, ACL) <-> reference BMIS consumer.

Every message the consumer receives is validated against its schema (invalid ones are counted and
must be zero); after de-duplication every msg_id is present exactly once.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from firmware_app.bmis.contract import MessageKind
from firmware_app.bmis.link import GateState, Severity
from firmware_app.bmis.mqtt_client import Callbacks, MqttConnection
from tests.broker_fixtures import bmis_consumer, broker, consumer_settings, make_link  # noqa: F401  (fixtures)
from tests.polling import wait_until


def exception_event(n: int) -> dict:
    return {"kind": "door_held_open", "severity": "warning", "transaction_id": f"tx-{n}"}


def assert_all_arrived_once(consumer, link, expected_ids: set[str], label: str) -> None:
    assert link.wait_drained(20), f"{label}: outbox not drained ({link.outbox.counts()})"
    assert wait_until(lambda: expected_ids <= {m["msg_id"] for m in consumer.messages()}, 20), \
        f"{label}: messages missing at the BMIS"
    counts = consumer.counts()
    received = [m["msg_id"] for m in consumer.messages()]
    assert len(received) == len(set(received))
    assert counts.invalid == 0
    print(f"\n{label}: {len(expected_ids)} messages, {counts.duplicates} duplicates removed by the consumer")


def test_gate_publishes_its_own_topics_and_they_validate(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path)
    link.start()
    try:
        ids = {link.record_exception(exception_event(n)).msg_id for n in range(5)}
        ids.add(link.raise_alarm("tamper", Severity.CRITICAL, detail="cabinet opened").msg_id)
        ids.add(link.publish_health({"reader": {"status": "ok"}}, uptime_s=1.0).msg_id)
        ids.add(link.publish_stats({"period_start": "2026-11-26T11:00:00.000Z",
                                    "period_end": "2026-11-26T12:00:00.000Z", "counts": []}).msg_id)
        assert_all_arrived_once(bmis_consumer, link, ids, "own topics")
        kinds = {m["kind"] for m in bmis_consumer.messages(device_id="gate-a")}
        assert {"events/exception", "alarms", "health", "stats", "status"} <= kinds
        assert link.outbox.counts().dead_letters == 0
    finally:
        link.stop()


def test_status_is_retained_and_the_last_will_says_offline(broker, tmp_path):
    seen: list[dict] = []
    watcher = MqttConnection(consumer_settings(broker, "watcher"),
                             Callbacks(on_ack=lambda *a: None,
                                       on_message=lambda m: seen.append(json.loads(m.payload))),
                             subscriptions=("gates/v1/gate-a/status",))
    link = make_link(broker, tmp_path)
    link.start()
    assert wait_until(lambda: link.connected) and link.wait_drained(10)
    watcher.start()
    try:
        assert wait_until(lambda: any(s["data"]["state"] == "online" for s in seen)), "retained status missing"
        link.set_status(GateState.OUT_OF_SERVICE, reason="outbox_full")
        assert wait_until(lambda: seen[-1]["data"]["state"] == "out_of_service")
        link.stop()
        assert wait_until(lambda: seen[-1]["data"]["state"] == "offline")
    finally:
        watcher.stop()


def test_another_gates_topic_is_refused_dead_lettered_and_alarmed(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path)
    link.start()
    try:
        foreign = link.outbox.add(MessageKind.EXCEPTION, exception_event(1),
                                  topic="gates/v1/gate-b/events/exception")
        link.pump.notify()
        assert wait_until(lambda: link.outbox.counts().dead_letters == 1, 10)
        dead = link.outbox.dead_letters()[0]
        assert dead["msg_id"] == foreign.msg_id and dead["reason_code"] == 0x87
        assert wait_until(lambda: bmis_consumer.messages(kind="alarms"), 10)
        alarm = bmis_consumer.messages(kind="alarms")[0]["data"]
        assert alarm["kind"] == "message_refused" and alarm["ref_msg_id"] == foreign.msg_id
        assert alarm["reason_code"] == 0x87
        assert not bmis_consumer.messages(device_id="gate-b")
    finally:
        link.stop()


def test_commands_get_an_answer_with_correlation_data(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        time.sleep(0.2)  # subscription to cmd/# in place
        correlation = bmis_consumer.send_command("gate-a", "set_mode", {"mode": "closed"})
        result = bmis_consumer.wait_result(correlation, 10)
        assert result is not None and result["status"] == "nack" and result["reason"] == "not_implemented"
        assert result["topic"] == "gates/v1/gate-a/cmd/set_mode"
    finally:
        link.stop()


def test_a_crashing_or_garbage_handler_still_answers(broker, bmis_consumer, tmp_path):
    def explode(topic, payload, response_topic, correlation):
        raise ValueError("handler bug")
    link = make_link(broker, tmp_path, handle_command=explode)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        time.sleep(0.2)
        correlation = bmis_consumer.send_command("gate-a", "request_status", {})
        result = bmis_consumer.wait_result(correlation, 10)
        assert result is not None and result["reason"] == "internal_error"
        assert link.connected
    finally:
        link.stop()


def test_broker_restart_mid_stream(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path)
    link.start()
    ids: set[str] = set()
    try:
        assert wait_until(lambda: link.connected)
        restarter = threading.Timer(0.3, broker.restart)
        restarter.start()
        for n in range(400):
            ids.add(link.record_exception(exception_event(n)).msg_id)
            time.sleep(0.002)
        restarter.join()
        assert_all_arrived_once(bmis_consumer, link, ids, "broker restart")
    finally:
        link.stop()
    assert bmis_consumer.seq_gaps("gate-a") == [] or wait_until(lambda: bmis_consumer.seq_gaps("gate-a") == [], 5)


def test_broker_down_for_a_while(broker, bmis_consumer, tmp_path):
    link = make_link(broker, tmp_path)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        # the retained "online" status is done at its PUBACK: one still in flight to the consumer when
        # the broker stops is superseded by the next, leaving its seq unseen (a known contract gap)
        assert wait_until(lambda: bmis_consumer.messages("status", "gate-a"))
        broker.stop()
        ids = {link.record_exception(exception_event(n)).msg_id for n in range(300)}
        time.sleep(1.0)
        assert link.outbox.counts().pending >= 300
        broker.start()
        assert_all_arrived_once(bmis_consumer, link, ids, "broker outage")
    finally:
        link.stop()
    assert wait_until(lambda: bmis_consumer.seq_gaps("gate-a") == [], 5), bmis_consumer.seq_gaps("gate-a")


def _gate_config(broker, directory):
    pair = broker.pki.devices["gate-a"]
    config = directory / "gate.toml"
    config.write_text(
        f'[device]\nid = "gate-a"\npost_id = "post-t"\ndata_dir = "{directory / "gate-data"}"\n'
        f'[reader]\nurl = "sim://"\n'
        f'[bmis]\nhost = "127.0.0.1"\nport = {broker.device_port}\nprefix = "gates"\nca_file = "{broker.pki.ca}"\n'
        f'cert_file = "{pair.cert}"\nkey_file = "{pair.key}"\nkeepalive_s = 5\nreconnect_min_s = 0.1\n'
        f'reconnect_max_s = 0.5\nretry_delay_s = 0.2\n')
    return config


def _emitter(config, total: int) -> subprocess.Popen:
    code = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, "bmis", "emit", "--config", str(config), "--total",
                             str(total), "--rate", "500", "--timeout", "30"],
                            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_gate_process_killed_with_sigkill_mid_stream_then_restarted(broker, bmis_consumer, tmp_path):
    total = 600
    config = _gate_config(broker, tmp_path)
    first = _emitter(config, total)
    try:
        assert wait_until(lambda: len(bmis_consumer.messages(kind="events/exception")) >= 100, 20)
    finally:
        first.kill()  # SIGKILL: no clean shutdown, no flush of pending acknowledgements
        first.wait()
    at_kill = len(bmis_consumer.messages(kind="events/exception"))
    assert at_kill < total, "the emitter finished before it could be killed"
    second = _emitter(config, total)
    output, _ = second.communicate(timeout=45)
    assert second.returncode == 0, output.decode()
    assert b"resuming at event" in output
    assert wait_until(lambda: len(bmis_consumer.messages(kind="events/exception")) >= total, 10)
    events = bmis_consumer.messages(kind="events/exception")
    transactions = [m["data"]["transaction_id"] for m in events]
    assert sorted(transactions) == sorted(f"emit-{n}" for n in range(total))
    assert bmis_consumer.counts().invalid == 0
    assert wait_until(lambda: bmis_consumer.seq_gaps("gate-a") == [], 5), bmis_consumer.seq_gaps("gate-a")
    offline = [m for m in bmis_consumer.messages(kind="status") if m["data"]["state"] == "offline"]
    assert any(m["boot"] == 1 for m in offline), "the killed gate's Last Will did not arrive"
    print(f"\nSIGKILL after {at_kill} events: {total} events exactly once, "
          f"{bmis_consumer.counts().duplicates} duplicates removed by the consumer")


class _Lane:
    def __init__(self):
        self.modes: list[str] = []

    def set_mode(self, mode, operator_id):
        self.modes.append(mode.value)

    def override_door(self, action, door, operator_id, command_id):
        raise NotImplementedError

    def request_status(self) -> dict:
        return {"mode": self.modes[-1] if self.modes else "normal"}


def test_signed_commands_through_the_command_processor(broker, bmis_consumer, tmp_path):
    import datetime as dt

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from firmware_app.bmis.commands.journal import CommandJournal
    from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
    from firmware_app.bmis.commands.signing import TrustStore
    bmis_key, lane = Ed25519PrivateKey.generate(), _Lane()
    processor = CommandProcessor(CommandSettings("gates", "gate-a"), trust=TrustStore.of(bmis_key.public_key()),
                                 journal=CommandJournal.open(tmp_path / "journal.db"), alerts=None, lane=lane,
                                 clock=lambda: dt.datetime.now(dt.UTC))
    link = make_link(broker, tmp_path, handle_command=processor.handle)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        time.sleep(0.2)
        signed = bmis_consumer.send_command("gate-a", "set-mode", {"params": {"mode": "closed"}, "operator_id": "op-1"},
                                            signing_key=bmis_key)
        assert bmis_consumer.wait_result(signed, 10)["status"] == "ack"
        assert lane.modes == ["closed"]
        unsigned = bmis_consumer.send_command("gate-a", "set-mode", {"params": {"mode": "normal"}})
        refused = bmis_consumer.wait_result(unsigned, 10)
        assert refused["status"] == "nack" and refused["reason"] == "unsigned"
        assert lane.modes == ["closed"]
        assert wait_until(lambda: any(m["data"]["kind"] == "command_refused"
                                      for m in bmis_consumer.messages(kind="alarms")), 10)
    finally:
        link.stop()


def test_garbage_on_the_command_topic_is_answered_and_the_gate_keeps_working(broker, bmis_consumer, tmp_path):
    import datetime as dt

    from firmware_app.bmis.commands.journal import CommandJournal
    from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
    from firmware_app.bmis.commands.signing import TrustStore
    processor = CommandProcessor(CommandSettings("gates", "gate-a"), trust=TrustStore.of(),
                                 journal=CommandJournal.open(tmp_path / "journal.db"), alerts=None, lane=_Lane(),
                                 clock=lambda: dt.datetime.now(dt.UTC))
    link = make_link(broker, tmp_path, handle_command=processor.handle)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        time.sleep(0.2)
        for n, payload in enumerate([b"\xff\xfe\x00", b"[]", b'{"command_id": 5}', b"{" * 5000, b""]):
            bmis_consumer.publish_raw("gates/v1/gate-a/cmd/set-mode", payload, correlation=f"g{n}".encode(),
                                      response_topic="gates/v1/gate-a/cmd-result")
        results = [bmis_consumer.wait_result(f"g{n}".encode(), 10) for n in range(5)]
        assert all(r is not None and r["status"] == "nack" for r in results), results
        ids = {link.record_exception(exception_event(1)).msg_id}
        assert_all_arrived_once(bmis_consumer, link, ids | {m["msg_id"] for m in bmis_consumer.messages()},
                                "after garbage")
    finally:
        link.stop()


def test_events_wait_for_a_bmis_that_has_never_subscribed(broker, tmp_path):
    from simulator.bmis_consumer import BmisConsumer
    from tests.broker_fixtures import consumer_settings
    link = make_link(broker, tmp_path)
    link.start()
    consumer = BmisConsumer(tmp_path / "late.db", consumer_settings(broker, "bmis-late"))
    try:
        ids = {link.record_exception(exception_event(n)).msg_id for n in range(50)}
        assert wait_until(lambda: link.pump.retries_no_subscribers > 0, 10)
        assert link.outbox.counts().pending >= 50, "events were marked sent although nobody received them"
        consumer.start()
        assert_all_arrived_once(consumer, link, ids, "late BMIS")
    finally:
        link.stop()
        consumer.stop()


def test_a_certificate_from_another_ca_never_connects_and_nothing_is_lost(broker, tmp_path):
    import datetime as dt
    import uuid

    from firmware_app.bmis.contract import Identity
    from firmware_app.bmis.link import BmisLink
    from firmware_app.bmis.mqtt_client import MqttSettings
    from firmware_app.bmis.outbox.queue import Outbox
    from firmware_app.bmis.wiring import connection_factory
    from simulator.bmis_pki import make_test_pki
    rogue = make_test_pki(tmp_path / "rogue", ["gate-a"]).devices["gate-a"]
    settings = MqttSettings(host="127.0.0.1", port=broker.device_port, client_id="gate-a", ca_file=broker.pki.ca,
                            cert_file=rogue.cert, key_file=rogue.key, reconnect_min_s=0.1, reconnect_max_s=0.3)
    outbox = Outbox(tmp_path / "rogue.db", Identity("gate-a", "post-t"), clock=lambda: dt.datetime.now(dt.UTC),
                    id_source=uuid.uuid4)
    link = BmisLink(outbox, connection_factory=connection_factory(settings))
    link.start()
    try:
        link.record_exception(exception_event(1))
        time.sleep(1.0)
        assert not link.connected
        assert link.outbox.counts().pending >= 1
    finally:
        link.stop(drain_timeout_s=0)
