"""A one-stop post whose agreement needs both authorities' update-apply ([onestop] update_authority
= "both"): the first authority's half is kept on disk (deploy/pending_halves.py) and read back,
verified again, when gate-app starts (appliance/onestop_updates.py AgreedUpdates.restore).

Real signed commands (Ed25519, each authority its own key and topic root), real files; the
download is a recording stand-in (the real one runs in test_onestop_e2e.py on the real brokers)."""
from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_app.appliance.onestop_updates import AgreedUpdates
from firmware_app.bmis.commands.model import CommandRefused, ResultReason
from firmware_app.bmis.commands.signing import TrustStore, sign_command
from firmware_app.config.onestop import UpdateAuthority
from firmware_app.deploy.pending_halves import MAX_HALF_BYTES, MAX_WAIT, PendingHalves
from firmware_app.policy.onestop import Role

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ROOTS = {Role.EXIT: "uto-gates/v1/osbp-1", Role.ENTRY: "arc-gates/v1/osbp-1"}
KEYS = {role: Ed25519PrivateKey.generate() for role in Role}
PARAMS = {"url": "https://bmis.example/border-gate_2.0.deb", "sha256": "ab" * 32, "version": "2.0"}


class Requests:
    """Records what would be fetched and the alarms (UpdateRequests' start_joint and report)."""

    def __init__(self):
        self.started: list[list[str]] = []
        self.alarms: list[tuple[str, str]] = []

    def start_joint(self, commands, params) -> dict:
        self.started.append([command_id for _, _, command_id in commands])
        return {"state": "downloading"}

    def report(self, kind, detail) -> None:
        self.alarms.append((kind, detail))


class Timers:
    """Records the expiry timers AgreedUpdates sets (threading.Timer's signature); `fire()` runs the last."""

    def __init__(self):
        self.set: list[tuple[float, object]] = []
        self.live: list[FakeTimer] = []

    def __call__(self, delay, function):
        timer = FakeTimer(function)
        self.set.append((delay, function))
        self.live.append(timer)
        return timer

    def fire(self) -> None:
        timer = self.live[-1]
        assert not timer.cancelled
        timer.function()


class FakeTimer:
    def __init__(self, function):
        self.function, self.cancelled, self.daemon = function, False, False

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        self.cancelled = True


class Gate:
    """gate-app's update half over one data dir; `restart()` is a new process on the same disk."""

    def __init__(self, tmp_path, now=NOW):
        self.directory, self.clock = tmp_path / "updates" / "pending", [now]
        self.requests, self.timers = Requests(), Timers()
        self.restart()

    def restart(self) -> AgreedUpdates:
        keys = {role.value: (ROOTS[role], TrustStore.of(KEYS[role].public_key())) for role in Role}
        pending = PendingHalves(self.directory, keys, lambda: self.clock[0])
        self.agreed = AgreedUpdates(UpdateAuthority.BOTH, self.requests, lambda: self.clock[0],   # type: ignore[arg-type]
                                    pending, timer=self.timers)   # type: ignore[arg-type]
        self.agreed.restore()
        return self.agreed

    def send(self, role: Role, command_id: str, lifetime=timedelta(hours=2), signer: Role | None = None,
             **params) -> dict:
        topic, body = signed(role, command_id, lifetime, signer, now=self.clock[0], **params)
        return self.agreed.port(role).start(topic, body, command_id, body["params"])

    def kept(self, role: Role) -> dict | None:
        path = self.directory / f"{role.value}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def kept_id(self, role: Role) -> str | None:
        kept = self.kept(role)
        return None if kept is None else json.loads(base64.b64decode(kept["payload"]))["command_id"]


def signed(role: Role, command_id: str, lifetime=timedelta(hours=2), signer: Role | None = None, now=NOW,
           **params) -> tuple[str, dict]:
    topic = f"{ROOTS[role]}/cmd/update-apply"
    body = {"command_id": command_id, "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expires_at": (now + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ"), "operator_id": "ops-1",
            "params": {**PARAMS, **params}}
    return topic, sign_command(KEYS[signer or role], topic, body)


@pytest.fixture
def gate(tmp_path):
    made = Gate(tmp_path)
    yield made
    made.agreed.stop()


def test_the_first_half_survives_a_restart_and_the_second_completes_the_pair(gate):
    assert gate.send(Role.EXIT, "x1")["state"] == "awaiting_other_authority"
    kept = gate.kept(Role.EXIT)
    assert kept is not None and kept["role"] == "exit" and kept["received_at"] == "2026-12-06T09:00:00Z"
    assert oct((gate.directory / "exit.json").stat().st_mode & 0o777) == "0o640"
    gate.agreed.stop()
    gate.restart()          # power cut: a new gate-app on the same disk
    assert gate.send(Role.ENTRY, "n1") == {"state": "downloading"}
    assert gate.requests.started == [["x1", "n1"]]
    assert list(gate.directory.iterdir()) == [] and gate.requests.alarms == []
    assert gate.send(Role.EXIT, "x2")["state"] == "awaiting_other_authority"   # used: a new pair begins


def test_without_the_kept_file_the_restart_forgets_the_half(gate):
    """The test above fails without the file: the second half then waits alone."""
    gate.send(Role.EXIT, "x1")
    (gate.directory / "exit.json").unlink()
    gate.restart()
    assert gate.send(Role.ENTRY, "n1")["awaiting"] == "exit" and gate.requests.started == []


def test_the_same_authority_twice_never_pairs_its_latest_waits(gate):
    assert gate.send(Role.EXIT, "x1")["awaiting"] == "entry"
    assert gate.send(Role.EXIT, "x2")["awaiting"] == "entry"      # not a pair: the same authority
    assert gate.requests.started == [] and gate.kept_id(Role.EXIT) == "x2"
    gate.restart()
    assert gate.send(Role.ENTRY, "n1") == {"state": "downloading"}
    assert gate.requests.started == [["x2", "n1"]]


@pytest.mark.parametrize("changed", [{"version": "2.1"}, {"sha256": "cd" * 32},
                                     {"url": "https://bmis.example/other.deb"}])
def test_a_second_half_that_differs_does_not_pair_each_waits(gate, caplog, changed):
    gate.send(Role.EXIT, "x1")
    answer = gate.send(Role.ENTRY, "n1", **changed)
    assert answer["state"] == "awaiting_other_authority" and answer["other_differs"] is True
    assert "differs" in caplog.text and gate.requests.started == []
    assert (gate.kept_id(Role.EXIT), gate.kept_id(Role.ENTRY)) == ("x1", "n1")
    assert gate.send(Role.ENTRY, "n2") == {"state": "downloading"}      # the entry's matching one
    assert gate.requests.started == [["x1", "n2"]] and list(gate.directory.iterdir()) == []


def test_a_half_expires_at_its_own_expiry_or_max_wait_and_is_reported(gate):
    gate.send(Role.EXIT, "x1", lifetime=timedelta(days=7))        # signed for a week: MAX_WAIT bounds it
    gate.send(Role.ENTRY, "n1", lifetime=timedelta(hours=1), version="2.1")
    gate.clock[0] = NOW + timedelta(hours=1)
    assert [h.command_id for h in gate.agreed.expire()] == ["n1"]
    gate.clock[0] = NOW + MAX_WAIT - timedelta(seconds=1)
    assert gate.agreed.expire() == []
    gate.clock[0] = NOW + MAX_WAIT
    assert [h.command_id for h in gate.agreed.expire()] == ["x1"]
    assert [kind for kind, _ in gate.requests.alarms] == ["update_half_expired"] * 2
    assert "x1" in gate.requests.alarms[1][1] and list(gate.directory.iterdir()) == []
    assert gate.send(Role.ENTRY, "n2", lifetime=timedelta(days=2))["awaiting"] == "exit"
    assert gate.requests.started == []


def test_a_timer_drops_the_half_when_it_is_due_without_another_command(gate):
    gate.send(Role.EXIT, "x1", lifetime=timedelta(minutes=30))
    delay, _ = gate.timers.set[-1]
    assert 30 * 60 <= delay <= 30 * 60 + 2         # at the half's due (and a second), not polled
    gate.clock[0] = NOW + timedelta(minutes=29)
    gate.timers.fire()          # early (the wall clock moved): nothing dropped, set again
    assert gate.kept(Role.EXIT) is not None and gate.requests.alarms == []
    gate.clock[0] = NOW + timedelta(minutes=30)
    gate.timers.fire()
    assert [kind for kind, _ in gate.requests.alarms] == ["update_half_expired"] and gate.kept(Role.EXIT) is None
    gate.send(Role.ENTRY, "n1")
    assert not gate.timers.live[-1].cancelled
    gate.agreed.stop()          # gate-app stops: no timer left behind
    assert gate.timers.live[-1].cancelled


def test_a_half_that_expired_while_the_gate_was_off_is_dropped_at_start(gate):
    gate.send(Role.EXIT, "x1", lifetime=timedelta(hours=1))
    gate.clock[0] = NOW + timedelta(hours=3)
    gate.restart()
    assert [kind for kind, _ in gate.requests.alarms] == ["update_half_expired"]
    assert gate.kept(Role.EXIT) is None
    assert gate.send(Role.ENTRY, "n1")["awaiting"] == "exit" and gate.requests.started == []


def _rewrite(gate, role: Role, change) -> None:
    path = gate.directory / f"{role.value}.json"
    stored = json.loads(path.read_text())
    change(stored)
    path.write_text(json.dumps(stored))


def _payload(change):
    def edit(stored):
        body = json.loads(base64.b64decode(stored["payload"]))
        change(body)
        stored["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    return edit


def _as_entry(gate):      # the exit's file holding the entry authority's genuine command
    stored = json.loads((gate.directory / "exit.json").read_text())
    topic, body = signed(Role.ENTRY, "n0")
    stored.update(topic=topic, payload=base64.b64encode(json.dumps(body).encode()).decode())
    (gate.directory / "exit.json").write_text(json.dumps(stored))


CORRUPT = {
    "truncated": lambda gate: (gate.directory / "exit.json").write_bytes(
        (gate.directory / "exit.json").read_bytes()[:40]),
    "not_json": lambda gate: (gate.directory / "exit.json").write_bytes(b"\xff\x00garbage"),
    "too_large": lambda gate: (gate.directory / "exit.json").write_bytes(b" " * (MAX_HALF_BYTES + 1)),
    "other_params": lambda gate: _rewrite(gate, Role.EXIT, _payload(lambda b: b["params"].update(version="6.6"))),
    "signature_cut": lambda gate: _rewrite(gate, Role.EXIT, _payload(lambda b: b.pop("signature"))),
    "role_swapped": lambda gate: _rewrite(gate, Role.EXIT, lambda s: s.update(role="entry")),
    "other_authority": _as_entry,
    "future": lambda gate: _rewrite(gate, Role.EXIT, lambda s: s.update(received_at="2026-12-07T09:00:00Z")),
    "old_format": lambda gate: _rewrite(gate, Role.EXIT, lambda s: s.update(format=0)),
}


@pytest.mark.parametrize("damage", sorted(CORRUPT))
def test_a_corrupt_or_tampered_half_is_discarded_with_a_warning_never_paired(gate, caplog, damage):
    gate.send(Role.EXIT, "x1")
    CORRUPT[damage](gate)
    with caplog.at_level(logging.WARNING):
        gate.restart()          # never raises
    assert "pending update-apply discarded: exit.json" in caplog.text
    assert [kind for kind, _ in gate.requests.alarms] == ["update_half_discarded"]
    assert not (gate.directory / "exit.json").exists()
    assert gate.send(Role.ENTRY, "n1")["awaiting"] == "exit" and gate.requests.started == []


def test_a_half_signed_with_the_other_authoritys_key_is_refused_on_load(gate):
    """The exit's file, its topic and role intact, but signed with the entry authority's key."""
    topic, body = signed(Role.EXIT, "x9", signer=Role.ENTRY)
    gate.send(Role.EXIT, "x1")
    _rewrite(gate, Role.EXIT, lambda s: s.update(payload=base64.b64encode(json.dumps(body).encode()).decode()))
    gate.restart()
    assert "signature" in gate.requests.alarms[0][1] and gate.kept(Role.EXIT) is None


def test_a_half_that_cannot_be_kept_is_refused_not_held_in_memory(tmp_path):
    (tmp_path / "updates").mkdir()
    (tmp_path / "updates" / "pending").write_text("a file where the directory goes")
    made = Gate(tmp_path)
    with pytest.raises(CommandRefused) as refused:
        made.send(Role.EXIT, "x1")
    assert refused.value.reason is ResultReason.STORE_FAILED
    (tmp_path / "updates" / "pending").unlink()
    assert made.send(Role.ENTRY, "n1")["awaiting"] == "exit"      # x1 was not held either
    assert made.requests.started == []
    made.agreed.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512) | st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
    st.sampled_from(["format", "role", "topic", "payload", "received_at"]),
    st.one_of(st.integers(), st.text(max_size=40), st.none(), st.lists(st.integers(), max_size=3)))))
def test_whatever_the_file_holds_the_start_never_fails_and_nothing_waits(tmp_path, data):
    directory = tmp_path / "fuzz"
    directory.mkdir(exist_ok=True)
    (directory / "exit.json").write_bytes(data)
    keys = {role.value: (ROOTS[role], TrustStore.of(KEYS[role].public_key())) for role in Role}
    halves, problems = PendingHalves(directory, keys, lambda: NOW).load()
    assert halves == {} and len(problems) == 1 and not (directory / "exit.json").exists()


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "command_id": _JSON, "expires_at": st.just("2026-12-06T11:00:00Z") | _JSON, "params": _JSON,
    "signature": _JSON | st.fixed_dictionaries({"alg": st.just("Ed25519") | _JSON, "key_id": _JSON, "value": _JSON})}))
def test_whatever_signed_command_a_file_holds_nothing_unsigned_waits(tmp_path, body):
    """A well-formed file around any command body: verified like a command from the broker."""
    directory = tmp_path / "fuzz-body"
    directory.mkdir(exist_ok=True)
    stored = {"format": 1, "role": "exit", "topic": f"{ROOTS[Role.EXIT]}/cmd/update-apply",
              "payload": base64.b64encode(json.dumps(body).encode()).decode(),
              "received_at": "2026-12-06T09:00:00Z"}
    (directory / "exit.json").write_text(json.dumps(stored))
    keys = {role.value: (ROOTS[role], TrustStore.of(KEYS[role].public_key())) for role in Role}
    halves, problems = PendingHalves(directory, keys, lambda: NOW).load()
    assert halves == {} and len(problems) == 1
