"""Durable outbox: ordering, bounds, persistence across reopen, dead letters."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from firmware_app.bmis.contract import Identity, MessageKind, validate_message
from firmware_app.bmis.errors import ContractViolation, OutboxFull
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.outbox.storage import inspect_outbox
from tests.fakes import WallClock

IDENTITY = Identity("gate-t1", "post-t")


def counting_ids():
    counter = iter(range(1, 10**9))
    return lambda: uuid.UUID(int=next(counter))


def exception_data(n: int = 0) -> dict:
    return {"kind": "door_forced", "severity": "warning", "transaction_id": f"t{n}"}


def open_outbox(path, clock=None, limits=OutboxLimits()):
    clock = clock or WallClock(steady=500.0)
    return Outbox(path / "outbox.db", IDENTITY, clock=clock, id_source=counting_ids(), limits=limits,
                  monotonic=clock.monotonic)


def test_messages_are_valid_envelopes_with_increasing_seq(tmp_path):
    box = open_outbox(tmp_path)
    first = box.add(MessageKind.EXCEPTION, exception_data(1))
    second = box.add(MessageKind.STATUS, {"state": "online"})
    assert (first.seq, second.seq) == (1, 2)
    assert first.topic == "gates/v1/gate-t1/events/exception"
    message = json.loads(first.payload)
    validate_message(MessageKind.EXCEPTION, message)
    assert message["time"] == "2026-11-26T12:00:00.000Z" and message["boot"] == 1


def test_status_and_alarms_drain_before_events(tmp_path):
    box = open_outbox(tmp_path)
    box.add(MessageKind.EXCEPTION, exception_data(1))
    box.add(MessageKind.ALARM, {"kind": "tamper", "severity": "critical", "active": True})
    box.add(MessageKind.STATUS, {"state": "online"})
    kinds = [m.kind for m in box.next_batch(10)]
    assert kinds == [MessageKind.STATUS, MessageKind.ALARM, MessageKind.EXCEPTION]


def test_seq_boot_and_pending_survive_reopen(tmp_path):
    box = open_outbox(tmp_path)
    sent = box.add(MessageKind.EXCEPTION, exception_data(1))
    kept = box.add(MessageKind.EXCEPTION, exception_data(2))
    assert box.mark_sent([sent.msg_id]) == 1 and box.receipted([sent.msg_id]) == 1
    box.close()
    again = open_outbox(tmp_path)
    assert again.boot == 2 and again.last_seq == 2
    assert [m.msg_id for m in again.next_batch(10)] == [kept.msg_id]
    assert again.sent_ids() == [sent.msg_id]
    assert again.add(MessageKind.EXCEPTION, exception_data(3)).seq == 3


def test_wal_and_synchronous_full(tmp_path):
    box = open_outbox(tmp_path)
    assert box._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_full_by_count_refuses_events_but_keeps_room_for_alarms(tmp_path):
    box = open_outbox(tmp_path, limits=OutboxLimits(max_messages=3, reserve_messages=1))
    for n in range(3):
        box.add(MessageKind.EXCEPTION, exception_data(n))
    with pytest.raises(OutboxFull) as raised:
        box.add(MessageKind.EXCEPTION, exception_data(9))
    assert raised.value.reason == "messages"
    box.add(MessageKind.ALARM, {"kind": "outbox_full", "severity": "critical", "active": True})
    with pytest.raises(OutboxFull):
        box.add(MessageKind.ALARM, {"kind": "outbox_full", "severity": "critical", "active": True})
    assert box.counts().pending == 4


def test_full_by_age_of_the_oldest_pending_message(tmp_path):
    clock = WallClock(steady=500.0)
    box = open_outbox(tmp_path, clock, OutboxLimits(max_age_s=60))
    box.add(MessageKind.EXCEPTION, exception_data(1))
    clock.advance(61)
    with pytest.raises(OutboxFull) as raised:
        box.add(MessageKind.EXCEPTION, exception_data(2))
    assert raised.value.reason == "age"
    assert box.counts().oldest_pending_age_s == pytest.approx(61)


def test_a_wall_clock_step_forward_or_back_does_not_age_the_outbox(tmp_path):
    clock = WallClock(steady=500.0)
    box = open_outbox(tmp_path, clock, OutboxLimits(max_age_s=7 * 24 * 3600))
    box.add(MessageKind.EXCEPTION, exception_data(1))
    clock.step(7 * 24 * 3600 + 60)          # NTP fixes a dead RTC: one week forward at once
    box.add(MessageKind.EXCEPTION, exception_data(2))
    clock.step(-30 * 24 * 3600)
    box.add(MessageKind.EXCEPTION, exception_data(3))
    assert box.counts().oldest_pending_age_s == 0.0


def test_age_carries_over_boots_on_the_stored_run_clock(tmp_path):
    clock = WallClock(steady=500.0)
    box = open_outbox(tmp_path, clock, OutboxLimits(max_age_s=100))
    box.add(MessageKind.EXCEPTION, exception_data(1))
    clock.advance(60)
    box.add(MessageKind.EXCEPTION, exception_data(2))       # the run clock is stored with each write
    box.close()
    clock.steady = 3.0                     # a reboot: monotonic time starts again near zero
    clock.step(-3600)
    again = open_outbox(tmp_path, clock, OutboxLimits(max_age_s=100))
    assert again.counts().oldest_pending_age_s == pytest.approx(60)
    clock.advance(41)
    with pytest.raises(OutboxFull) as raised:
        again.add(MessageKind.EXCEPTION, exception_data(3))
    assert raised.value.reason == "age"


def test_full_by_bytes(tmp_path):
    box = open_outbox(tmp_path, limits=OutboxLimits(max_bytes=600))
    box.add(MessageKind.EXCEPTION, exception_data(1))
    box.add(MessageKind.EXCEPTION, exception_data(2))
    with pytest.raises(OutboxFull) as raised:
        box.add(MessageKind.EXCEPTION, exception_data(3))
    assert raised.value.reason == "bytes"


def test_invalid_message_is_refused_before_storage(tmp_path):
    box = open_outbox(tmp_path)
    with pytest.raises(ContractViolation):
        box.add(MessageKind.STATUS, {"state": "sleeping"})
    assert box.counts().pending == 0 and box.last_seq == 0


def test_dead_letter_moves_the_message(tmp_path):
    box = open_outbox(tmp_path)
    refused = box.add(MessageKind.EXCEPTION, exception_data(1))
    moved = box.dead_letter(refused.msg_id, 0x87, "Not authorized")
    assert moved is not None and moved.seq == 1
    assert box.counts().pending == 0 and box.counts().dead_letters == 1
    assert box.dead_letters()[0]["reason_code"] == 0x87
    assert box.dead_letter(refused.msg_id, 0x87, "again") is None


def test_next_batch_skips_messages_in_flight(tmp_path):
    box = open_outbox(tmp_path)
    ids = [box.add(MessageKind.EXCEPTION, exception_data(n)).msg_id for n in range(5)]
    assert [m.msg_id for m in box.next_batch(2, skip=ids[:2])] == ids[2:4]


def test_sent_log_is_bounded(tmp_path):
    box = open_outbox(tmp_path, limits=OutboxLimits(sent_log_keep=3))
    ids = [box.add(MessageKind.EXCEPTION, exception_data(n)).msg_id for n in range(5)]
    box.receipted(ids)
    assert box.sent_ids() == ids[2:]


def test_unwritable_location_is_a_typed_error(tmp_path):
    from firmware_app.bmis.errors import OutboxError
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutboxError):
        Outbox(blocker / "sub" / "outbox.db", IDENTITY, clock=WallClock(steady=500.0), id_source=counting_ids())


def test_a_corrupt_database_file_is_a_typed_error(tmp_path):
    from firmware_app.bmis.errors import OutboxError
    (tmp_path / "outbox.db").write_bytes(b"not a database" * 100)
    with pytest.raises(OutboxError):
        open_outbox(tmp_path)


def _gate_outbox(tmp_path):
    from firmware_app.bmis.wiring import OUTBOX_FILE
    return Outbox(tmp_path / OUTBOX_FILE, IDENTITY, clock=WallClock(steady=500.0), id_source=counting_ids())


def _config_file(tmp_path):
    config = tmp_path / "gate.toml"
    config.write_text(f'[device]\nid = "gate-t1"\npost_id = "post-t"\ndata_dir = "{tmp_path}"\n'
                      '[reader]\nurl = "sim://"\n')
    return config


def test_gatectl_outbox_status_reports_pending_and_dead_letters(tmp_path, capsys):
    from firmware_app.cli import main as gatectl
    box = _gate_outbox(tmp_path)
    box.add(MessageKind.EXCEPTION, exception_data(1))
    refused = box.add(MessageKind.EXCEPTION, exception_data(2))
    box.close()
    config = _config_file(tmp_path)
    assert gatectl(["outbox", "status", "--config", str(config), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pending"] == 2 and summary["boot"] == 1 and summary["last_seq"] == 2
    box = _gate_outbox(tmp_path)
    box.dead_letter(refused.msg_id, 0x87, "Not authorized")
    box.close()
    assert gatectl(["outbox", "status", "--config", str(config)]) == 1
    assert "Not authorized (0x87)" in capsys.readouterr().out


def test_gatectl_outbox_status_without_an_outbox_is_a_usage_error(tmp_path, capsys):
    from firmware_app.cli import main as gatectl
    assert gatectl(["outbox", "status", "--config", str(_config_file(tmp_path))]) == 2
    assert "no outbox" in capsys.readouterr().err


def test_the_dead_letter_table_keeps_the_newest_within_its_count_and_byte_bounds(tmp_path):
    box = open_outbox(tmp_path, limits=OutboxLimits(dead_letter_keep=5, dead_letter_max_bytes=10**6))
    refused = [box.add(MessageKind.EXCEPTION, exception_data(n)) for n in range(12)]
    for message in refused:
        box.dead_letter(message.msg_id, 0x87, "Not authorized")
    assert [d["msg_id"] for d in box.dead_letters()] == [m.msg_id for m in refused[-5:]]
    box.close()
    summary = inspect_outbox(tmp_path / "outbox.db", 0.0)
    assert summary["dead_letters_dropped"] == 7 and len(summary["dead_letters"]) == 5
    small = open_outbox(tmp_path, limits=OutboxLimits(dead_letter_keep=100, dead_letter_max_bytes=700))
    newest = small.add(MessageKind.EXCEPTION, exception_data(99))
    small.dead_letter(newest.msg_id, 0x87, "Not authorized")
    kept = small._conn.execute("SELECT msg_id, LENGTH(payload) FROM dead_letter ORDER BY rowid").fetchall()
    assert kept[-1][0] == newest.msg_id and sum(size for _, size in kept) <= 700 and len(kept) == 700 // kept[-1][1]


def _stats_link(tmp_path):
    from firmware_app.bmis.link import BmisLink
    clock = WallClock(steady=500.0)
    box = Outbox(tmp_path / "outbox.db", IDENTITY, clock=clock, id_source=counting_ids(), monotonic=clock.monotonic)
    return BmisLink(box, connection_factory=lambda *args: None)


def test_a_stats_report_resent_after_a_crash_is_the_same_message(tmp_path):
    from firmware_app.appliance.bmis_side import StatsPublisher
    from firmware_app.bmis.stats import CrossingStats
    stats = CrossingStats.open(tmp_path / "stats.db")
    hour = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    stats.tick(hour)
    link = _stats_link(tmp_path)
    first = link.publish_stats(stats.due_reports(hour + dt.timedelta(hours=1))[0])
    link.outbox.close()                      # the crash: stored, but the hour was never marked reported
    link = _stats_link(tmp_path)
    assert StatsPublisher(stats, link, lambda: hour + dt.timedelta(hours=1, minutes=1)).publish_due() == 1
    pending = [m for m in link.outbox.next_batch(10) if m.kind is MessageKind.STATS]
    assert [m.msg_id for m in pending] == [first.msg_id]
    link.outbox.mark_sent([first.msg_id])
    again = link.publish_stats(json.loads(pending[0].payload)["data"])      # even after it was sent
    assert again.msg_id == first.msg_id and link.outbox.counts().pending == 0
    other = _stats_link(tmp_path / "b") if (tmp_path / "b").mkdir() is None else None
    next_hour = {**json.loads(pending[0].payload)["data"], "period_start": "2026-11-26T11:00:00Z"}
    assert other.publish_stats(next_hour).msg_id != first.msg_id
    stats.close()
