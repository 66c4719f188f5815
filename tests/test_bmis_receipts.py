"""End-to-end receipts, gate side: the outbox keeps a PUBACKed record until the BMIS receipts it,
re-sends it after the timeout, and reports the backlog; receipts are parsed bounded and checked."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.contract import MAX_RECEIPT_BYTES, Identity, MessageKind, build_receipt, parse_receipt
from firmware_app.bmis.errors import ContractViolation
from firmware_app.bmis.mqtt_client import Publisher
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.outbox.storage import inspect_outbox
from firmware_app.bmis.pump import OutboxPump
from tests.fakes import ManualClock
from tests.test_bmis_contract import CROSSING

IDENTITY = Identity("gate-r", "post-r")
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def open_box(tmp_path, mono=None, timeout: float | None = 30.0) -> Outbox:
    counter = iter(range(1, 10**6))
    return Outbox(tmp_path / "o.db", IDENTITY, clock=lambda: NOW, id_source=lambda: uuid.UUID(int=next(counter)),
                  limits=OutboxLimits(receipt_timeout_s=timeout), monotonic=mono or ManualClock(1000.0))


def crossing(txn: str) -> dict:
    return {**CROSSING, "transaction_id": txn, "device_id": IDENTITY.device_id}


def test_a_pubacked_record_stays_until_its_receipt_and_is_resent_after_the_timeout(tmp_path):
    mono = ManualClock(1000.0)
    box = open_box(tmp_path, mono)
    record = box.add(MessageKind.CROSSING, crossing("tx-1"))
    assert box.mark_sent([record.msg_id]) == 1
    counts = box.counts()
    assert (counts.pending, counts.unreceipted) == (0, 1)
    assert box.next_batch(10) == []                   # not due yet
    mono.now += 29.0
    assert box.next_batch(10) == [] and box.counts().oldest_unreceipted_age_s == pytest.approx(29.0)
    mono.now += 2.0
    assert [m.msg_id for m in box.next_batch(10)] == [record.msg_id]
    box.mark_sent([record.msg_id])                    # the re-send's PUBACK starts its clock again
    assert box.next_batch(10) == []
    assert box.receipted([record.msg_id]) == 1
    assert box.counts().unreceipted == 0 and box.sent_ids() == [record.msg_id]
    assert box.receipted([record.msg_id, str(uuid.uuid4())]) == 0     # idempotent, unknown ids ignored


def test_a_receipt_may_overtake_the_puback(tmp_path):
    box = open_box(tmp_path)
    record = box.add(MessageKind.CROSSING, crossing("tx-1"))
    assert box.receipted([record.msg_id]) == 1
    assert box.mark_sent([record.msg_id]) == 0
    assert box.counts().pending == 0 and box.counts().unreceipted == 0


def test_retained_status_is_done_at_its_puback(tmp_path):
    box = open_box(tmp_path)
    status = box.add(MessageKind.STATUS, {"state": "online"})
    box.mark_sent([status.msg_id])
    assert box.counts().unreceipted == 0 and box.sent_ids() == [status.msg_id]


def test_without_receipts_configured_a_puback_is_enough(tmp_path):
    box = open_box(tmp_path, timeout=None)
    record = box.add(MessageKind.CROSSING, crossing("tx-1"))
    box.mark_sent([record.msg_id])
    assert box.counts().unreceipted == 0 and box.sent_ids() == [record.msg_id]


def test_unreceipted_records_of_an_earlier_boot_are_resent_at_start(tmp_path):
    box = open_box(tmp_path)
    record = box.add(MessageKind.CROSSING, crossing("tx-1"))
    box.mark_sent([record.msg_id])
    box.close()
    again = open_box(tmp_path, ManualClock(1000.0))
    assert [m.msg_id for m in again.next_batch(10)] == [record.msg_id]
    assert again.counts().pending == 1 and again.has_crossing("tx-1")


def test_unreceipted_records_count_towards_the_bound(tmp_path):
    from firmware_app.bmis.errors import OutboxFull
    counter = iter(range(1, 10**6))
    box = Outbox(tmp_path / "o.db", IDENTITY, clock=lambda: NOW, id_source=lambda: uuid.UUID(int=next(counter)),
                 limits=OutboxLimits(max_messages=3, reserve_messages=0), monotonic=ManualClock(1000.0))
    ids = [box.add(MessageKind.CROSSING, crossing(f"tx-{n}")).msg_id for n in range(3)]
    box.mark_sent(ids)
    with pytest.raises(OutboxFull):
        box.add(MessageKind.CROSSING, crossing("tx-9"))
    box.receipted(ids[:1])
    box.add(MessageKind.CROSSING, crossing("tx-9"))


def test_an_outbox_from_before_receipts_is_migrated(tmp_path):
    conn = sqlite3.connect(tmp_path / "o.db")
    conn.execute("CREATE TABLE pending (id INTEGER PRIMARY KEY, msg_id TEXT, kind TEXT, seq INTEGER, topic TEXT,"
                 " priority INTEGER, retain INTEGER, payload BLOB, correlation BLOB, created FLOAT)")
    conn.execute("CREATE TABLE sent (id INTEGER PRIMARY KEY, msg_id TEXT, kind TEXT, seq INTEGER, acked_at FLOAT)")
    conn.execute("INSERT INTO pending VALUES (1, 'm', 'EXCEPTION', 1, 't', 3, 0, x'7b7d', NULL, 0)")
    conn.commit()
    conn.close()
    box = open_box(tmp_path)
    assert [m.msg_id for m in box.next_batch(5)] == ["m"] and box.counts().pending == 1


def test_gatectl_outbox_status_shows_the_unreceipted_backlog(tmp_path, capsys):
    from firmware_app.cli import main
    box = Outbox(tmp_path / "bmis-outbox.db", IDENTITY, clock=lambda: NOW, id_source=uuid.uuid4,
                 limits=OutboxLimits(receipt_timeout_s=30.0))
    ids = [box.add(MessageKind.CROSSING, crossing(f"tx-{n}")).msg_id for n in range(3)]
    box.mark_sent(ids[:2])
    box.close()
    summary = inspect_outbox(tmp_path / "bmis-outbox.db", NOW.timestamp() + 42)
    assert (summary["pending"], summary["unreceipted"]) == (1, 2)
    assert summary["oldest_unreceipted_age_s"] == pytest.approx(42)
    config = tmp_path / "gate.toml"
    config.write_text(f'[device]\nid = "gate-r"\npost_id = "post-r"\ndata_dir = "{tmp_path}"\n'
                      '[reader]\nurl = "sim://"\n')
    assert main(["outbox", "status", "--config", str(config)]) == 0
    assert "unreceipted 2" in capsys.readouterr().out


# -- receipts as data --------------------------------------------------------------------------
def test_a_receipt_round_trips_and_is_checked():
    ids = [str(uuid.uuid4()) for _ in range(3)]
    payload = build_receipt(ids, receipt_id=uuid.uuid4(), now=NOW)
    assert parse_receipt(payload) == ids
    message = json.loads(payload)
    for broken in ({**message, "msg_ids": []}, {**message, "msg_ids": ["x"]}, {**message, "extra": 1},
                   {**message, "msg_ids": [ids[0]] * 2}, {k: v for k, v in message.items() if k != "receipt_id"}):
        with pytest.raises(ContractViolation):
            parse_receipt(json.dumps(broken).encode())
    with pytest.raises(ContractViolation):
        build_receipt([str(uuid.uuid4()) for _ in range(501)], receipt_id=uuid.uuid4(), now=NOW)


def test_an_oversized_receipt_is_refused_before_parsing():
    with pytest.raises(ContractViolation, match="too large"):
        parse_receipt(b"[" * (MAX_RECEIPT_BYTES + 1))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20).map(lambda doc: json.dumps(doc).encode())))
def test_hostile_receipts_are_a_typed_refusal(payload):
    try:
        ids = parse_receipt(payload)
    except ContractViolation:
        return
    assert 1 <= len(ids) <= 500


# -- the pump: receipts committed, a broker that stops acknowledging --------------------------
class SilentBroker(Publisher):
    """Connected, takes every publish, never acknowledges (a unit-test stand-in for the network)."""

    def __init__(self):
        self.connected, self.mid, self.reconnects = True, 0, 0

    def publish(self, topic, payload, *, retain=False, correlation=None, response_topic=None):
        self.mid += 1
        return self.mid

    def reconnect(self):
        self.reconnects += 1


def test_a_missing_puback_on_a_live_connection_alarms_and_reconnects(tmp_path):
    mono = ManualClock(1000.0)
    box = open_box(tmp_path, mono)
    timeouts: list[int] = []
    pump = OutboxPump(box, ack_timeout_s=10.0, monotonic=mono, on_ack_timeout=timeouts.append)
    broker = SilentBroker()
    pump.attach(broker)
    box.add(MessageKind.CROSSING, crossing("tx-1"))
    assert pump.step() == 1
    mono.now += 9.0
    pump.step()
    assert timeouts == [] and broker.reconnects == 0
    mono.now += 2.0
    pump.step()
    assert timeouts == [1] and broker.reconnects == 1
    pump.step()
    assert timeouts == [1], "the clock of an overdue message starts again after a reconnect"
    pump.on_ack(1, 0, "Success")
    pump.step()
    mono.now += 60.0
    pump.step()
    assert timeouts == [1] and box.counts().unreceipted == 1


def test_receipts_handed_to_the_pump_are_committed(tmp_path):
    box = open_box(tmp_path)
    pump = OutboxPump(box)
    record = box.add(MessageKind.CROSSING, crossing("tx-1"))
    box.mark_sent([record.msg_id])
    pump.on_receipt([record.msg_id])
    pump.step()
    assert box.counts().unreceipted == 0 and pump.receipted == 1
