"""BMIS commands end to end through CommandProcessor.handle: every command, signatures, time, replay."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.commands.model import ResultReason
from firmware_app.bmis.commands.signing import sign_command
from firmware_app.bmis.contract import problems
from tests.bmis_command_helpers import ROOT, Bmis, FakeLane, make_processor
from tests.fakes import WallClock


@pytest.fixture
def env(tmp_path):
    clock = WallClock()
    bmis, lane, alarms = Bmis(clock), FakeLane(), []
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane, alarms)
    yield clock, bmis, lane, alarms, processor, alerts, journal
    alerts.close()
    journal.close()


def run(processor, topic_payload):
    topic, payload = topic_payload
    result = processor.handle(topic, payload, f"{ROOT}/cmd-result", b"corr-1")
    assert set(result) >= {"status", "reason", "command_id", "command", "alarm"}
    return result


def test_set_mode_signed_is_acked_and_applied(env):
    clock, bmis, lane, alarms, processor, _, journal = env
    result = run(processor, bmis.signed("set-mode", {"mode": "closed"}))
    assert (result["status"], result["reason"], result["command"]) == ("ack", "ok", "set-mode")
    assert result["result"] == {"mode": "closed"} and not result["alarm"]
    assert lane.calls == [("set_mode", "closed", "officer-7")]
    audit = journal.audit_rows()[0]
    assert (audit["command"], audit["status"], audit["operator_id"]) == ("set-mode", "ack", "officer-7")
    assert audit["key_id"] and not alarms


def test_cmd_result_body_fits_the_contract_schema(env):
    _, bmis, _, _, processor, _, _ = env
    body = run(processor, bmis.signed("set-mode", {"mode": "assisted"}))
    message = {"schema": "cmd-result/1.0", "msg_id": "00000000-0000-4000-8000-000000000000",
               "device_id": "gate-01", "post_id": "post-1", "seq": 1, "boot": 1,
               "time": "2026-11-26T12:00:00Z", "data": {"topic": f"{ROOT}/cmd/set-mode", **body}}
    assert problems("cmd-result.json", message) == []


@pytest.mark.parametrize("action, door", [("open", "entry"), ("close", "all"), ("open", "exit")])
def test_override_is_applied_and_audited_with_operator(env, action, door):
    _, bmis, lane, _, processor, _, journal = env
    topic, payload = bmis.signed("override", {"action": action, "door": door})
    result = run(processor, (topic, payload))
    assert result["status"] == "ack"
    assert lane.calls == [("override", action, door, "officer-7")]
    assert lane.override_command_ids == [json.loads(payload)["command_id"]]
    audit = journal.audit_rows()[0]
    assert audit["operator_id"] == "officer-7" and action in audit["detail"] and door in audit["detail"]


def test_override_without_operator_is_refused(env):
    _, bmis, lane, _, processor, _, _ = env
    topic = f"{ROOT}/cmd/override"
    body = bmis.body({"action": "open", "door": "entry"})
    del body["operator_id"]
    result = run(processor, (topic, json.dumps(sign_command(bmis.key, topic, body)).encode()))
    assert (result["status"], result["reason"]) == ("nack", "invalid_params") and not lane.calls


@pytest.mark.parametrize("name, params", [
    ("set-mode", {"mode": "party"}), ("set-mode", {}), ("override", {"action": "open"}),
    ("override", {"action": "smash", "door": "entry"}), ("set-mode", None),
])
def test_bad_params_are_nacked(env, name, params):
    _, bmis, lane, _, processor, _, _ = env
    payload = bmis.signed(name, params if params is not None else {})
    if params is None:
        topic = payload[0]
        body = bmis.body()
        body["params"] = ["not", "an", "object"]
        payload = (topic, json.dumps(sign_command(bmis.key, topic, body)).encode())
    result = run(processor, payload)
    assert (result["status"], result["reason"]) == ("nack", "invalid_params") and not lane.calls


def test_request_status_needs_no_signature(env):
    _, bmis, _, _, processor, alerts, _ = env
    alerts.replace("sltd", "document", 3, [])
    result = run(processor, bmis.unsigned("request-status"))
    assert result["status"] == "ack"
    assert result["result"] == {"lane": {"state": "idle", "mode": "normal"}, "alert_lists": {"sltd": 3}}


def test_lane_refusal_is_a_nack(env):
    _, bmis, lane, _, processor, _, journal = env
    lane.refuse = True
    result = run(processor, bmis.signed("override", {"action": "open", "door": "entry"}))
    assert (result["status"], result["reason"]) == ("nack", "lane_refused")
    assert "emergency" in result["detail"] and journal.audit_rows()[0]["reason"] == "lane_refused"


# --- signatures ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("set-mode", {"mode": "normal"}), ("override", {"action": "open", "door": "entry"}),
    ("alerts-replace", {"list_id": "sltd", "kind": "document", "version": 1, "entries": []}),
    ("alerts-delta", {"list_id": "sltd", "base_version": 1, "version": 2}),
])
def test_unsigned_security_commands_are_refused_with_alarm(env, name, params):
    _, bmis, lane, alarms, processor, alerts, journal = env
    result = run(processor, bmis.unsigned(name, params))
    assert (result["status"], result["reason"], result["alarm"]) == ("nack", "unsigned", True)
    assert not lane.calls and alerts.versions() == {}
    assert alarms == [("command_unsigned", f"command {name}")]
    assert journal.audit_rows()[0]["reason"] == "unsigned"


def test_wrong_key_is_refused(env):
    clock, _, lane, alarms, processor, _, _ = env
    stranger = Bmis(clock, Ed25519PrivateKey.generate())
    result = run(processor, stranger.signed("set-mode", {"mode": "normal"}))
    assert (result["reason"], result["alarm"]) == ("unknown_key", True) and not lane.calls


def test_tampered_command_is_refused(env):
    _, bmis, lane, alarms, processor, _, _ = env
    topic, payload = bmis.signed("set-mode", {"mode": "closed"})
    tampered = payload.replace(b'"closed"', b'"normal"')
    result = run(processor, (topic, tampered))
    assert (result["reason"], result["alarm"]) == ("bad_signature", True) and not lane.calls


def test_command_signed_for_another_device_is_refused(env):
    _, bmis, lane, _, processor, _, _ = env
    other_topic = "gates/v1/gate-02/cmd/set-mode"
    body = sign_command(bmis.key, other_topic, bmis.body({"mode": "closed"}))
    result = run(processor, (f"{ROOT}/cmd/set-mode", json.dumps(body).encode()))
    assert result["reason"] == "bad_signature" and not lane.calls


# --- time window and replay ---------------------------------------------------------------------

def test_expired_command_is_refused(env):
    clock, bmis, lane, _, processor, _, _ = env
    command = bmis.signed("set-mode", {"mode": "closed"})
    clock.now += timedelta(minutes=5)
    assert run(processor, command)["reason"] == "expired" and not lane.calls


def test_command_from_the_future_is_refused(env):
    clock, bmis, lane, _, processor, _, _ = env
    clock.now += timedelta(hours=1)
    command = bmis.signed("set-mode", {"mode": "closed"})
    clock.now -= timedelta(hours=1)
    assert run(processor, command)["reason"] == "not_yet_valid" and not lane.calls


def test_expiry_before_issue_is_malformed(env):
    _, bmis, lane, _, processor, _, _ = env
    command = bmis.signed("set-mode", {"mode": "closed"}, lifetime=timedelta(seconds=-1))
    assert run(processor, command)["reason"] == "malformed" and not lane.calls


def test_too_long_lifetime_is_refused(env):
    _, bmis, lane, _, processor, _, _ = env
    command = bmis.signed("set-mode", {"mode": "closed"}, lifetime=timedelta(days=30))
    assert run(processor, command)["reason"] == "lifetime_too_long" and not lane.calls


def test_redelivery_answers_again_without_a_second_effect(env):
    _, bmis, lane, alarms, processor, _, _ = env
    command = bmis.signed("override", {"action": "open", "door": "entry"})
    first, second = run(processor, command), run(processor, command)
    assert first["status"] == "ack" and len(lane.calls) == 1
    assert (second["status"], second["reason"], second["alarm"]) == ("ack", "duplicate", False)
    assert second["result"] == {"first_status": "ack", "first_reason": "ok"} and not alarms


def test_replay_with_other_content_is_refused_with_alarm(env):
    _, bmis, lane, alarms, processor, _, _ = env
    topic, payload = bmis.signed("set-mode", {"mode": "closed"})
    run(processor, (topic, payload))
    body = json.loads(payload)
    body["params"] = {"mode": "normal"}
    body = sign_command(bmis.key, topic, body)  # validly signed, but the id is spent
    result = run(processor, (topic, json.dumps(body).encode()))
    assert (result["reason"], result["alarm"]) == ("replayed", True)
    assert lane.calls == [("set_mode", "closed", "officer-7")]


def test_replay_guard_survives_restart(tmp_path):
    clock = WallClock()
    bmis, lane = Bmis(clock), FakeLane()
    command = bmis.signed("set-mode", {"mode": "closed"})
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    run(processor, command)
    alerts.close(), journal.close()
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    assert run(processor, command)["reason"] == "duplicate" and len(lane.calls) == 1


def test_expired_ids_are_forgotten(env):
    clock, bmis, _, _, processor, _, journal = env
    run(processor, bmis.signed("set-mode", {"mode": "closed"}))
    clock.advance(timedelta(minutes=11))   # lifetime 5 min + the allowed clock skew of 5 min
    run(processor, bmis.signed("set-mode", {"mode": "normal"}))
    assert journal.seen("cmd-1") is None and journal.seen("cmd-2") is not None


def test_request_status_stays_out_of_the_replay_journal(env):
    _, bmis, lane, _, processor, _, journal = env
    command = bmis.unsigned("request-status")
    assert run(processor, command)["status"] == "ack" and run(processor, command)["status"] == "ack"
    assert journal.seen("cmd-1") is None


def test_an_unexpired_id_is_kept_however_far_the_wall_clock_is_stepped_forward(env):
    clock, bmis, lane, _, processor, _, journal = env
    run(processor, bmis.signed("set-mode", {"mode": "closed"}))
    clock.now += timedelta(days=30)                  # stepped, not elapsed: the steady clock stands
    run(processor, bmis.signed("set-mode", {"mode": "normal"}))
    assert journal.seen("cmd-1") is not None


def _step_forward_send_step_back(clock, bmis, processor):
    """Issue 10's attack: the clock stepped forward, any command sent (it prunes), stepped back."""
    spent = bmis.signed("override", {"action": "open", "door": "exit"})
    assert run(processor, spent)["status"] == "ack"
    clock.now += timedelta(hours=1)
    assert run(processor, bmis.signed("set-mode", {"mode": "normal"}))["status"] == "ack"
    clock.now -= timedelta(hours=1) - timedelta(minutes=1)
    return spent


def test_a_clock_stepped_forward_then_back_cannot_run_a_signed_command_twice(env):
    clock, bmis, lane, _, processor, _, journal = env
    spent = _step_forward_send_step_back(clock, bmis, processor)
    result = run(processor, spent)
    assert result["reason"] == "duplicate" and [c[0] for c in lane.calls].count("override") == 1


def test_after_its_steady_time_a_forgotten_command_is_still_refused_on_a_stepped_back_clock(tmp_path):
    clock, lane = WallClock(), FakeLane()
    bmis = Bmis(clock)
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    spent = bmis.signed("override", {"action": "open", "door": "exit"})
    run(processor, spent)
    clock.advance(timedelta(minutes=11))             # really elapsed: the id may be forgotten now
    run(processor, bmis.signed("set-mode", {"mode": "normal"}))
    assert journal.seen("cmd-1") is None
    alerts.close(), journal.close()
    clock.steady = 0.0                               # a restart: a new monotonic clock
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    clock.now -= timedelta(minutes=10)               # stepped back into the spent command's window
    result = run(processor, spent)
    alerts.close(), journal.close()
    assert (result["status"], result["reason"], result["alarm"]) == ("nack", "clock_untrusted", True)
    assert [c[0] for c in lane.calls].count("override") == 1


def test_the_clock_step_replay_is_refused_across_a_restart(tmp_path):
    clock, lane = WallClock(), FakeLane()
    bmis = Bmis(clock)
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    spent = _step_forward_send_step_back(clock, bmis, processor)
    alerts.close(), journal.close()
    clock.steady = 0.0                               # a new process: its monotonic clock starts again
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    result = run(processor, spent)
    alerts.close(), journal.close()
    assert result["status"] == "nack" or result["reason"] == "duplicate"
    assert [c[0] for c in lane.calls].count("override") == 1


def test_a_clock_stepped_back_cannot_revive_a_spent_command(env):
    clock, bmis, lane, _, processor, _, journal = env
    command = bmis.signed("set-mode", {"mode": "closed"})
    run(processor, command)
    clock.now += timedelta(minutes=5, seconds=1)     # expired; another command prunes the journal
    run(processor, bmis.unsigned("request-status"))
    clock.now -= timedelta(minutes=2)                # NTP steps the clock back, within the skew
    result = run(processor, command)
    assert result["reason"] == "duplicate" and lane.calls == [("set_mode", "closed", "officer-7")]


def test_a_command_expiring_during_its_redelivery_is_not_run_twice(tmp_path):
    clock = WallClock()
    bmis, lane = Bmis(clock), FakeLane()
    processor, alerts, journal = make_processor(tmp_path, clock, bmis, lane)
    command = bmis.signed("set-mode", {"mode": "closed"}, lifetime=timedelta(seconds=10))
    run(processor, command)
    # Redelivered just before expiry; the clock ticks past it between the window check and the guard.
    clock.script = [clock.now + timedelta(seconds=9, microseconds=999_999)]
    clock.now += timedelta(seconds=10, microseconds=1)
    result = run(processor, command)
    alerts.close(), journal.close()
    assert result["reason"] == "duplicate" and len(lane.calls) == 1


# --- alert lists through commands ---------------------------------------------------------------

def _replace(bmis, version, entries):
    return bmis.signed("alerts-replace", {"list_id": "sltd", "kind": "document", "version": version,
                                          "entries": entries})


def test_alert_replace_and_delta_commands(env):
    _, bmis, _, _, processor, alerts, journal = env
    entry = {"id": "E1", "issuing_state": "UTO", "number": "L898902C3", "category": "stolen"}
    result = run(processor, _replace(bmis, 1, [entry]))
    assert result["result"] == {"list_id": "sltd", "version": 1, "entry_count": 1}
    delta = bmis.signed("alerts-delta", {"list_id": "sltd", "base_version": 1, "version": 2,
                                         "add": [{**entry, "id": "E2", "number": "X1"}], "remove": ["E1"]})
    assert run(processor, delta)["result"] == {"list_id": "sltd", "version": 2, "entry_count": 1}
    assert alerts.check_document("UTO", "X1") and not alerts.check_document("UTO", "L898902C3")
    assert [row["command"] for row in journal.audit_rows()] == ["alerts-delta", "alerts-replace"]


def test_alert_delta_on_stale_base_is_a_version_conflict(env):
    _, bmis, _, _, processor, alerts, _ = env
    run(processor, _replace(bmis, 4, []))
    stale = bmis.signed("alerts-delta", {"list_id": "sltd", "base_version": 3, "version": 5, "add": []})
    result = run(processor, stale)
    assert (result["status"], result["reason"]) == ("nack", "version_conflict")
    assert result["result"] == {"active_version": 4} and alerts.versions() == {"sltd": 4}


def test_alert_replace_with_bad_entries_is_invalid_params(env):
    _, bmis, _, _, processor, alerts, _ = env
    result = run(processor, _replace(bmis, 1, [{"id": "E1"}]))
    assert (result["status"], result["reason"]) == ("nack", "invalid_params")
    assert alerts.versions() == {}


# --- malformed input ----------------------------------------------------------------------------

@pytest.mark.parametrize("topic, payload, reason", [
    (f"{ROOT}/cmd/self-destruct", b"{}", "unknown_command"),
    ("gates/v1/gate-02/cmd/set-mode", b"{}", "wrong_topic"),
    (f"{ROOT}/cmd/set-mode", b"\xff\xfe", "malformed"),
    (f"{ROOT}/cmd/set-mode", b"[1, 2]", "malformed"),
    (f"{ROOT}/cmd/set-mode", b'{"a": 1, "a": 2}', "malformed"),
    (f"{ROOT}/cmd/set-mode", b"[" * 100_000, "malformed"),
    (f"{ROOT}/cmd/request-status", b'{"command_id": "x"}', "malformed"),
    (f"{ROOT}/cmd/request-status",
     b'{"command_id": "x", "issued_at": "2026-11-26 12:00", "expires_at": "2026-11-26T12:05:00Z"}',
     "malformed"),
    (f"{ROOT}/cmd/request-status",
     b'{"command_id": "x", "issued_at": "2026-02-30T12:00:00Z", "expires_at": "2026-11-26T12:05:00Z"}',
     "malformed"),
])
def test_malformed_commands_are_nacked_with_a_reason(env, topic, payload, reason):
    processor = env[4]
    result = processor.handle(topic, payload, None, None)
    assert (result["status"], result["reason"]) == ("nack", reason)


def test_oversized_payload_is_refused(env):
    processor = env[4]
    result = processor.handle(f"{ROOT}/cmd/set-mode", b" " * ((16 << 20) + 1), None, None)
    assert result["reason"] == "too_large"


@pytest.mark.parametrize("reason", list(ResultReason))
def test_every_reason_fits_the_cmd_result_schema(reason):
    message = {"schema": "cmd-result/1.0", "msg_id": "00000000-0000-4000-8000-000000000000",
               "device_id": "gate-01", "post_id": "post-1", "seq": 1, "boot": 1,
               "time": "2026-11-26T12:00:00Z", "data": {"status": "nack", "reason": reason.value}}
    assert problems("cmd-result.json", message) == []


class _BrokenJournal:
    """A journal whose disk went away after the claim: the effect's answer must still be true."""

    def __init__(self, inner, fail_on):
        self.inner, self.fail_on = inner, fail_on

    def __getattr__(self, name):
        from firmware_app.bmis.errors import JournalError
        if name in self.fail_on:
            def fail(*args, **kwargs):
                raise JournalError("disk I/O error")
            return fail
        return getattr(self.inner, name)


@pytest.mark.parametrize("fail_on, status, reason, effects", [
    ({"seen"}, "nack", "store_failed", 0),           # cannot check for replay: do not run
    ({"claim"}, "nack", "store_failed", 0),
    ({"finish", "audit"}, "ack", "ok", 1),           # ran: say so
])
def test_journal_failures(tmp_path, fail_on, status, reason, effects):
    from firmware_app.bmis.commands.journal import CommandJournal
    from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
    from firmware_app.bmis.commands.signing import TrustStore
    clock, lane = WallClock(), FakeLane()
    bmis = Bmis(clock)
    journal = _BrokenJournal(CommandJournal.open(tmp_path / "j.db"), fail_on)
    processor = CommandProcessor(CommandSettings("gates", "gate-01"), trust=TrustStore.of(bmis.key.public_key()),
                                 journal=journal, alerts=None, lane=lane, clock=clock)
    result = run(processor, bmis.signed("set-mode", {"mode": "closed"}))
    assert (result["status"], result["reason"], len(lane.calls)) == (status, reason, effects)
