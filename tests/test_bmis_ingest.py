"""bmis-ingest on a real mosquitto (TLS, ACL): store, de-duplicate, receipts after commit, the device
from the topic, a worker killed between receive and commit, two workers on a shared subscription."""
from __future__ import annotations

import signal
import sqlite3
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.bmis.ingest.classify import classify, topic_filters
from firmware_app.bmis.ingest.errors import StoreUnavailable
from firmware_app.bmis.ingest.records import Rejection, RejectReason, StoredMessage
from firmware_app.bmis.ingest.store import open_store
from firmware_app.bmis.ingest.worker import IngestOptions, IngestWorker
from tests.broker_fixtures import broker, make_link  # noqa: F401  (fixtures)
from tests.ingest_helpers import ReceiptWatch, alarm_claiming, gate_connection, ingest_settings, start_worker_process
from tests.pg_fixtures import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.polling import wait_until

EVENT = {"kind": "test", "severity": "info"}


def _events_in(url: str, wanted: set[str]) -> int:
    probe = open_store(url)
    try:
        return len(wanted & set(probe.msg_ids()))
    finally:
        probe.close()


# -- classification (pure) -----------------------------------------------------------------------
def test_the_topic_names_the_device_and_a_payload_claiming_another_is_refused():
    verdict = classify("gates", "gates/v1/gate-a/alarms", alarm_claiming("gate-b"), 1.0)
    assert isinstance(verdict, Rejection) and verdict.reason is RejectReason.DEVICE_MISMATCH
    stored = classify("gates", "gates/v1/gate-a/alarms", alarm_claiming("gate-a"), 1.0)
    assert isinstance(stored, StoredMessage) and stored.device_id == "gate-a" and stored.kind == "alarms"


def test_receipts_are_split_per_device_and_per_500_ids_and_pass_their_schema():
    import datetime as dt
    import json

    from firmware_app.bmis.contract import parse_receipt
    from firmware_app.bmis.ingest.receipt_out import receipts_by_device
    pairs = [("gate-a", str(uuid.UUID(int=n + 1))) for n in range(1001)] + [("gate-b", str(uuid.UUID(int=7)))]
    out = receipts_by_device(pairs, "gates", now=dt.datetime.now(dt.UTC))
    assert [(t, len(json.loads(p)["msg_ids"])) for t, p in out] == [
        ("gates/v1/gate-a/receipt", 500), ("gates/v1/gate-a/receipt", 500), ("gates/v1/gate-a/receipt", 1),
        ("gates/v1/gate-b/receipt", 1)]
    assert sum(len(parse_receipt(p)) for _, p in out) == 1002


def test_filters_share_the_events_and_read_retained_status_plainly():
    filters = topic_filters("gates", "g1")
    assert "$share/g1/gates/v1/+/events/#" in filters and "gates/v1/+/status" in filters
    assert not any(f.startswith("$share") and f.endswith(("status", "health")) for f in filters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.one_of(st.text(max_size=80), st.sampled_from(["gates/v1/gate-a/alarms", "gates/v1/gate-a/stats",
                                                               "gates/v1/gate-a/cmd-result/x", "gates/v1/+/status"])),
       payload=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_topic_and_payload_is_stored_or_refused_never_raises(topic, payload):
    verdict = classify("gates", topic, payload, 0.0)
    assert isinstance(verdict, (StoredMessage, Rejection))


# -- on the broker ---------------------------------------------------------------------------------
def test_messages_are_stored_once_and_receipted_only_after_the_commit(broker, tmp_path):
    url = f"sqlite:///{tmp_path}/ingest.db"
    store = open_store(url)
    early: list[str] = []

    def check_committed(device, ids):
        with sqlite3.connect(f"file:{tmp_path}/ingest.db?mode=ro", uri=True) as conn:
            present = {r[0] for r in conn.execute("SELECT msg_id FROM messages")}
        early.extend(i for i in ids if i not in present)

    watch = ReceiptWatch(broker, check_committed).start()
    worker = IngestWorker(store, ingest_settings(broker, "ingest-1"), IngestOptions(flush_s=0.02))
    worker.start()
    assert wait_until(lambda: worker.connected)
    link = make_link(broker, tmp_path)
    link.start()
    sent = {link.record_exception({**EVENT, "transaction_id": f"t{n}"}).msg_id for n in range(30)}
    assert wait_until(lambda: sent <= set(store.msg_ids()), 20)
    assert wait_until(lambda: sent <= watch.receipted("gate-a"), 10)
    # The gate took the receipts: its outbox keeps nothing (records stay until receipted).
    assert wait_until(lambda: link.outbox.counts().unreceipted == 0 and link.outbox.counts().pending == 0, 10)
    link.stop()
    worker.stop()
    watch.stop()
    assert early == [] and watch.problems == []
    assert len([i for i in store.msg_ids() if i in sent]) == 30 and store.counts().rejected == 0


def test_a_payload_naming_another_gate_and_garbage_are_refused_counted_and_never_receipted(broker, tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/ingest.db")
    watch = ReceiptWatch(broker).start()
    worker = IngestWorker(store, ingest_settings(broker, "ingest-1"), IngestOptions(flush_s=0.02))
    worker.start()
    assert wait_until(lambda: worker.connected)
    gate = gate_connection(broker, "gate-a")
    gate.publish("gates/v1/gate-a/alarms", alarm_claiming("gate-b"))
    gate.publish("gates/v1/gate-a/events/exception", b"not json")
    good = alarm_claiming("gate-a")
    gate.publish("gates/v1/gate-a/alarms", good)
    assert wait_until(lambda: store.counts().rejected == 2 and store.counts().messages == 1, 10)
    assert wait_until(lambda: len(watch.receipted("gate-a")) == 1, 5)
    assert sorted(r for _, r in store.rejections()) == ["device_mismatch", "not_json"]
    assert watch.receipted("gate-b") == set()
    gate.stop()
    worker.stop()
    watch.stop()


def test_the_ingest_account_may_write_receipts_but_not_commands(broker, tmp_path):
    from firmware_app.bmis.mqtt_client import Callbacks, MqttConnection
    codes: dict[int, int] = {}
    conn = MqttConnection(ingest_settings(broker, "ingest-acl"), Callbacks(on_ack=lambda m, c, n: codes.update({m: c})))
    conn.start()
    assert wait_until(lambda: conn.connected)
    receipt = conn.publish("gates/v1/gate-a/receipt", b"{}")
    command = conn.publish("gates/v1/gate-a/cmd/open-exit", b"{}")
    assert wait_until(lambda: receipt in codes and command in codes)
    conn.stop()
    assert codes[receipt] < 0x80 and codes[command] == 0x87


def test_a_worker_killed_between_receive_and_commit_loses_nothing(broker, tmp_path, postgres_url):
    held_file = tmp_path / "held"
    crashing = start_worker_process(broker, postgres_url, "ingest-k", crash_before_commit=True, held_file=held_file)
    link = make_link(broker, tmp_path)
    link.start()
    sent = {link.record_exception({**EVENT, "transaction_id": f"t{n}"}).msg_id for n in range(20)}
    assert crashing.wait(30) == -signal.SIGKILL
    held = set(held_file.read_text().split())
    assert held and held <= sent and _events_in(postgres_url, held) == 0     # it died holding them
    restarted = start_worker_process(broker, postgres_url, "ingest-k")
    try:
        assert wait_until(lambda: _events_in(postgres_url, sent) == 20, 30)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(20)
        link.stop()
    store = open_store(postgres_url)
    stored = store.msg_ids()
    store.close()
    assert len([i for i in stored if i in sent]) == 20 and len(stored) == len(set(stored))


def test_two_workers_on_a_shared_subscription_split_the_messages_and_store_each_once(broker, tmp_path, postgres_url):
    workers = [IngestWorker(open_store(postgres_url), ingest_settings(broker, f"ingest-{n}"),
                            IngestOptions(flush_s=0.02)) for n in range(2)]
    for worker in workers:
        worker.start()
    assert wait_until(lambda: all(w.connected for w in workers))
    link = make_link(broker, tmp_path)
    link.start()
    sent = {link.record_exception({**EVENT, "transaction_id": f"t{n}"}).msg_id for n in range(200)}
    assert wait_until(lambda: _events_in(postgres_url, sent) == 200, 30)
    link.stop()
    for worker in workers:
        worker.stop()
    assert all(w.counters.stored > 20 for w in workers), [w.counters for w in workers]
    store = open_store(postgres_url)
    assert store.counts().duplicates <= 2          # only the retained status, read by both workers
    store.close()


class _FailingFirst:
    """A real SQLite store whose first `failures` commits fail as a database outage would."""

    def __init__(self, store, failures: int):
        self.store, self.failures = store, failures

    def commit(self, batch):
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("database down (test)")
        return self.store.commit(batch)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_failed_commit_is_retried_and_nothing_is_receipted_before_it_succeeds(broker, tmp_path):
    store = _FailingFirst(open_store(f"sqlite:///{tmp_path}/ingest.db"), failures=3)
    watch = ReceiptWatch(broker).start()
    worker = IngestWorker(store, ingest_settings(broker, "ingest-1"), IngestOptions(flush_s=0.02))
    worker.start()
    assert wait_until(lambda: worker.connected)
    link = make_link(broker, tmp_path)
    link.start()
    sent = {link.record_exception({**EVENT, "transaction_id": f"t{n}"}).msg_id for n in range(10)}
    assert wait_until(lambda: worker.counters.commit_failures >= 1, 10)
    assert watch.receipted("gate-a") & sent == set()          # nothing receipted while the database is down
    assert wait_until(lambda: sent <= set(store.msg_ids()), 20)
    assert wait_until(lambda: sent <= watch.receipted("gate-a"), 10)
    link.stop()
    worker.stop()
    watch.stop()
    assert worker.counters.commit_failures == 3
