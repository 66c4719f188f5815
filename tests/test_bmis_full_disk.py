"""The outbox on a small real filesystem (tmpfs with a size): it never fills its own disk, keeps
room for status, alarms and acknowledgements, and a reserve for when another program fills it."""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid

import pytest

from firmware_app.bmis.contract import Identity, MessageKind
from firmware_app.bmis.errors import OutboxError, OutboxFull
from firmware_app.bmis.link import BmisLink
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.wiring import connection_factory
from tests.broker_fixtures import bmis_consumer, broker, device_settings  # noqa: F401  (fixtures)
from tests.disk_fixtures import DiskFiller, free_bytes, small_disk  # noqa: F401  (fixture)
from tests.polling import wait_until

LIMITS = OutboxLimits(max_messages=10**7, max_bytes=10**10, min_free_bytes=1 << 20, reserve_bytes=512 << 10)


def event(n: int) -> dict:
    return {"kind": "door_held_open", "severity": "warning", "transaction_id": f"tx-{n}", "detail": "d" * 400}


def open_outbox(directory, limits=LIMITS) -> Outbox:
    return Outbox(directory / "outbox.db", Identity("gate-a", "post-t", "gates"),
                  clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4, limits=limits)


def fill_with_events(add) -> tuple[int, OutboxFull]:
    for n in range(10**6):
        try:
            add(n)
        except OutboxFull as full:
            return n, full
    raise AssertionError("the outbox never said it was full")


def box_unreceipted_ids(box) -> list[str]:
    with sqlite3.connect(f"file:{box.path}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT msg_id FROM pending WHERE state = 1")]


def test_events_are_refused_while_there_is_still_room_and_every_ack_commits(small_disk):
    box = open_outbox(small_disk)
    stored, full = fill_with_events(lambda n: box.add(MessageKind.EXCEPTION, event(n)))
    left = free_bytes(small_disk)
    print(f"\n8 MB tmpfs: {stored} events stored, then OutboxFull({full.reason}) with {left / 2**20:.1f} MB free")
    assert full.reason == "disk" and left >= LIMITS.min_free_bytes
    box.add(MessageKind.ALARM, {"kind": "outbox_full", "severity": "critical", "active": True})
    box.add(MessageKind.STATUS, {"state": "out_of_service", "reason": "outbox"})
    while batch := box.next_batch(32):           # the broker acknowledges everything, batch by batch
        assert box.mark_sent([m.msg_id for m in batch]) == len(batch)
    assert box.counts().pending == 0
    receipted = box.receipted(box_unreceipted_ids(box))   # and the BMIS receipts them: that frees room
    assert receipted == stored + 1 and box.counts().unreceipted == 0   # the events and the alarm
    box.add(MessageKind.EXCEPTION, event(-1))    # room again


def test_disk_filled_by_the_outbox_with_the_broker_down_then_everything_delivers(
        broker, bmis_consumer, small_disk):
    broker.stop()
    DiskFiller(small_disk).take(1 << 20)         # others' files: fewer events fill the rest
    box = open_outbox(small_disk)
    link = BmisLink(box, connection_factory=connection_factory(device_settings(broker, "gate-a")),
                    retry_delay_s=0.2)
    link.start()
    try:
        ids: list[str] = []
        stored, full = fill_with_events(lambda n: ids.append(link.record_exception(event(n)).msg_id))
        assert full.reason == "disk" and len(ids) == stored
        alarms = [m for m in box.next_batch(10) if m.kind is MessageKind.ALARM]
        assert len(alarms) == 1 and b"outbox_full" in alarms[0].payload
        pending = box.counts().pending
        broker.start()
        started = time.monotonic()
        assert link.wait_drained(120), f"still pending: {box.counts()}"
        print(f"\nbroker back: {pending} pending delivered in {time.monotonic() - started:.1f} s")
        # Wait for the very events stored, by msg_id: a count of everything the consumer stored is
        # no sync point (the link queues a status on connecting, after `pending` was counted)
        assert wait_until(lambda: set(ids) <= _exception_ids(bmis_consumer), 30), \
            f"lost at the consumer: {len(set(ids) - _exception_ids(bmis_consumer))} of {stored}"
        received = [m["msg_id"] for m in bmis_consumer.messages("events/exception")]
        assert sorted(received) == sorted(ids)           # each stored once (duplicates deduplicated), no extra
        assert wait_until(lambda: box.counts().unreceipted == 0, 30), f"unreceipted: {box.counts()}"
        link.record_exception(event(-1))             # the lane may take travellers again
        assert wait_until(lambda: _alarm_cleared(bmis_consumer), 10)
    finally:
        link.stop()


def _exception_ids(consumer) -> set[str]:
    return {m["msg_id"] for m in consumer.messages("events/exception")}


def _alarm_cleared(consumer) -> bool:
    return any(m["data"]["kind"] == "outbox_full" and not m["data"]["active"] for m in consumer.messages("alarms"))


def test_a_disk_filled_by_another_program_gives_up_the_reserve_for_alarms(small_disk):
    box = open_outbox(small_disk)
    box.add(MessageKind.EXCEPTION, event(0))
    filler = DiskFiller(small_disk)
    filler.fill()
    with pytest.raises(OutboxError):
        for n in range(10_000):                  # events never use the reserve
            box.add(MessageKind.EXCEPTION, event(n))
    box.add(MessageKind.ALARM, {"kind": "device_fault", "severity": "critical", "active": True, "detail": "outbox"})
    box.add(MessageKind.STATUS, {"state": "out_of_service", "reason": "outbox"})
    assert not box._room.reserve_path.exists()
    filler.free()
    box.add(MessageKind.EXCEPTION, event(1))     # room again: the reserve comes back first
    assert box._room.reserve_path.exists()
    kinds = [m.kind for m in box.next_batch(100)]
    assert kinds.count(MessageKind.ALARM) == 1 and kinds.count(MessageKind.STATUS) == 1
