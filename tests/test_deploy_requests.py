"""The BMIS `update-apply` command's two halves: gate-app downloads (bounded, hash-checked, on its
own thread) and leaves the signed command; root re-verifies everything and runs the updater.
The package is served over HTTP on loopback; the install goes into the throwaway root of
tests/deploy_fixtures.py."""
from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import threading
from functools import partial
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.appliance.onestop_updates import AgreedUpdates
from firmware_app.bmis.commands.signing import TrustStore, sign_command
from firmware_app.config import load_config
from firmware_app.config.onestop import UpdateAuthority
from firmware_app.deploy.alarms import AlarmSpool
from firmware_app.deploy.errors import DeployError
from firmware_app.deploy.joint_requests import JointRequestRunner
from firmware_app.deploy.pending_halves import PendingHalves
from firmware_app.deploy.request_runner import RequestRunner
from firmware_app.deploy.requests import UpdateRequestInvalid, UpdateRequests, download, parse_update_params, spool
from firmware_app.deploy.wiring import updater_from_config
from firmware_app.policy.onestop import Role
from tests.deploy_fixtures import make_bench, status_server

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
ROOT_TOPIC = "gates/v1/gate-u"
TOPIC = f"{ROOT_TOPIC}/cmd/update-apply"
KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def served(tmp_path):
    directory = tmp_path / "www"
    directory.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield directory, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def bench(tmp_path, monkeypatch):
    bench = make_bench(tmp_path)
    monkeypatch.setenv("PATH", f"{bench.bin}:/usr/sbin:/usr/bin:/sbin:/bin")
    v1 = bench.deb("1.0")
    import subprocess
    subprocess.run(["dpkg", "-i", str(v1)], check=True, capture_output=True)
    updater_from_config(load_config(bench.config())).keep_installed(v1)
    server = status_server(bench)
    yield bench
    server.stop()


def command(url: str, sha256: str, command_id: str = "upd-1", expires: dt.datetime = NOW + dt.timedelta(hours=2),
            topic: str = TOPIC) -> bytes:
    body = {"command_id": command_id, "issued_at": "2026-12-06T08:55:00Z",
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "operator_id": "ops-1",
            "params": {"url": url, "sha256": sha256, "version": "2.0"}}
    return json.dumps(sign_command(KEY, topic, body)).encode()


def hand_over(bench, url: str, sha256: str, payload: bytes, command_id: str = "upd-1", alarms=None,
              topic: str = TOPIC) -> None:
    sink = (lambda *a: alarms.append(a)) if alarms is not None else None
    requests = UpdateRequests(bench.data, 10 << 20, on_alarm=sink)
    body = json.loads(payload)
    assert requests.start(topic, body, command_id, body["params"])["state"] == "downloading"
    requests.last_thread.join(timeout=30)


def runner(bench) -> RequestRunner:
    return RequestRunner(updater_from_config(load_config(bench.config())), TrustStore.of(KEY.public_key()),
                         ROOT_TOPIC, clock=lambda: NOW)


def publish(served, deb: Path) -> tuple[str, str]:
    directory, base = served
    (directory / deb.name).write_bytes(deb.read_bytes())
    return f"{base}/{deb.name}", hashlib.sha256(deb.read_bytes()).hexdigest()


def test_a_signed_update_command_is_downloaded_verified_and_installed(bench, served):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    hand_over(bench, url, digest, command(url, digest))
    [result] = runner(bench).run()
    assert result["outcome"] == "updated" and bench.installed() == "2.0"
    assert list((bench.data / "updates" / "requests").iterdir()) == []
    assert not (bench.data / "updates" / f"{digest}.deb").exists()      # the store keeps its own copy


def test_a_failing_update_from_the_bmis_is_rolled_back_too(bench, served):
    url, digest = publish(served, bench.deb("2.0", "crash"))
    hand_over(bench, url, digest, command(url, digest))
    [result] = runner(bench).run()
    assert result["outcome"] == "rolled_back" and bench.installed() == "1.0"
    assert [a.kind for a in AlarmSpool(bench.data).pending()] == ["update_rolled_back"]


@pytest.mark.parametrize("tamper", ["params", "replay", "expired", "other_device"])
def test_the_root_half_trusts_nothing_gate_app_wrote(bench, served, tamper):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    topic = "gates/v1/other-gate/cmd/update-apply" if tamper == "other_device" else TOPIC
    payload = command(url, digest, expires=NOW - dt.timedelta(minutes=1) if tamper == "expired" else
                      NOW + dt.timedelta(hours=2), topic=topic)
    if tamper == "params":         # a compromised gate-app points the signed command at another file
        body = json.loads(payload)
        body["params"]["url"] = url + "?other"
        payload = json.dumps(body).encode()
    if tamper == "replay":
        hand_over(bench, url, digest, payload)
        assert runner(bench).run()[0]["outcome"] == "updated"
    hand_over(bench, url, digest, payload, topic=topic)
    [result] = runner(bench).run()
    assert result["outcome"] == "refused", result
    expected = {"params": "signature bad_signature", "replay": "run before", "expired": "expired",
                "other_device": "not this device"}[tamper]
    assert expected in result["detail"]
    assert bench.installed() == ("2.0" if tamper == "replay" else "1.0")
    assert "update_request_refused" in [a.kind for a in AlarmSpool(bench.data).pending()]


def test_a_download_with_the_wrong_hash_or_too_large_leaves_nothing_and_raises_an_alarm(bench, served, tmp_path):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    alarms = []
    hand_over(bench, url, "0" * 64, command(url, "0" * 64), alarms=alarms)
    assert alarms and alarms[0][0] == "update_download_failed" and "not the signed" in alarms[0][1]
    assert list((bench.data / "updates").glob("*.deb*")) == []
    with pytest.raises(DeployError, match="over 100 bytes"):
        download(url, tmp_path / "x.deb", digest, max_bytes=100)
    assert not (tmp_path / "x.deb").exists() and not (tmp_path / "x.deb.partial").exists()


def test_one_download_at_a_time(bench, served):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    requests = UpdateRequests(bench.data, 10 << 20)
    requests.start(TOPIC, json.loads(command(url, digest)), "upd-1", {"url": url, "sha256": digest})
    with pytest.raises(UpdateRequestInvalid, match="another update"):   # the first is still running
        requests.start(TOPIC, json.loads(command(url, digest, "upd-2")), "upd-2", {"url": url, "sha256": digest})
    requests.last_thread.join(timeout=30)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["url", "sha256", "version", "x"]),
                       st.one_of(st.text(max_size=80), st.integers(), st.none(), st.booleans()), max_size=4))
def test_update_params_are_parsed_or_refused_with_a_typed_error(params):
    try:
        parsed = parse_update_params(params)
    except UpdateRequestInvalid:
        return
    assert parsed.url.startswith(("http://", "https://")) and len(parsed.sha256) == 64


# --- a one-stop post whose agreement needs both authorities (joint_requests.py) -----------------
EXIT_ROOT, ENTRY_ROOT = "uto-gates/v1/gate-u", "arc-gates/v1/gate-u"
ENTRY_KEY = Ed25519PrivateKey.generate()


def joint_runner(bench) -> JointRequestRunner:
    return JointRequestRunner(updater_from_config(load_config(bench.config())),
                              [(EXIT_ROOT, TrustStore.of(KEY.public_key())),
                               (ENTRY_ROOT, TrustStore.of(ENTRY_KEY.public_key()))], clock=lambda: NOW)


def signed(root: str, key, url: str, digest: str, command_id: str) -> tuple[str, dict, str]:
    topic = f"{root}/cmd/update-apply"
    body = {"command_id": command_id, "issued_at": "2026-12-06T08:55:00Z", "expires_at": "2026-12-06T11:00:00Z",
            "operator_id": "ops-1", "params": {"url": url, "sha256": digest, "version": "2.0"}}
    return topic, sign_command(key, topic, body), command_id


def hand_over_joint(bench, commands, url: str, digest: str) -> None:
    requests = UpdateRequests(bench.data, 10 << 20)
    assert requests.start_joint(commands, {"url": url, "sha256": digest, "version": "2.0"})["state"] == "downloading"
    requests.last_thread.join(timeout=30)


def test_a_request_both_authorities_signed_is_installed_once_and_never_again(bench, served):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    both = [signed(EXIT_ROOT, KEY, url, digest, "x-1"), signed(ENTRY_ROOT, ENTRY_KEY, url, digest, "n-1")]
    hand_over_joint(bench, both, url, digest)
    [result] = joint_runner(bench).run()
    assert (result["request"], result["outcome"]) == ("x-1+n-1.json", "updated") and bench.installed() == "2.0"
    hand_over_joint(bench, both, url, digest)           # the same pair again: each id was run
    [again] = joint_runner(bench).run()
    assert again["outcome"] == "refused" and "run before" in again["detail"]


@pytest.mark.parametrize("case", ["one_only", "other_key", "different", "single_format"])
def test_a_request_without_both_authorities_is_refused_not_half_applied(bench, served, case):
    url, digest = publish(served, bench.deb("2.0", "ok"))
    exit_ = signed(EXIT_ROOT, KEY, url, digest, "x-1")
    entry = {"one_only": None, "other_key": signed(ENTRY_ROOT, KEY, url, digest, "n-1"),
             "different": signed(ENTRY_ROOT, ENTRY_KEY, url + "?v", digest, "n-1"),
             "single_format": None}[case]
    if entry is None:      # as a single-authority lane stores one command
        hand_over(bench, url, digest, json.dumps(exit_[1]).encode(), command_id="x-1", topic=exit_[0])
        if case == "one_only":      # in the joint form, with one authority's command only
            stored = bench.data / "updates" / "requests" / "x-1.json"
            single = json.loads(stored.read_text())
            stored.write_text(json.dumps({"commands": [{"topic": single["topic"], "payload": single["payload"]}],
                                          "file": single["file"]}))
    else:
        hand_over_joint(bench, [exit_] + ([entry] if entry else []), url, digest)
    [result] = joint_runner(bench).run()
    assert result["outcome"] == "refused" and bench.installed() == "1.0", result
    expected = {"one_only": "1 signed command", "other_key": "signature", "different": "differ",
                "single_format": "signed by both"}[case]
    assert expected in result["detail"]
    assert list((bench.data / "updates" / "requests").iterdir()) == []


def test_a_first_half_kept_across_a_restart_is_installed_with_the_second(bench, served):
    """[onestop] update_authority = "both" below the brokers: gate-app keeps the exit authority's
    half on disk (appliance/onestop_updates.py), restarts, the entry authority's matching half
    completes the pair, the package is fetched, and root installs it on the dpkg bench."""
    url, digest = publish(served, bench.deb("2.0", "ok"))
    keys = {"exit": (EXIT_ROOT, TrustStore.of(KEY.public_key())),
            "entry": (ENTRY_ROOT, TrustStore.of(ENTRY_KEY.public_key()))}

    def gate_app() -> tuple[AgreedUpdates, UpdateRequests]:
        requests = UpdateRequests(bench.data, 10 << 20)
        agreed = AgreedUpdates(UpdateAuthority.BOTH, requests, lambda: NOW,
                               PendingHalves(spool(bench.data) / "pending", keys, lambda: NOW))
        agreed.restore()
        return agreed, requests

    before, _ = gate_app()
    topic, body, command_id = signed(EXIT_ROOT, KEY, url, digest, "x-1")
    assert before.port(Role.EXIT).start(topic, body, command_id, body["params"])["awaiting"] == "entry"
    before.stop()
    after, requests = gate_app()            # a new gate-app on the same disk
    topic, body, command_id = signed(ENTRY_ROOT, ENTRY_KEY, url, digest, "n-1")
    assert after.port(Role.ENTRY).start(topic, body, command_id, body["params"])["state"] == "downloading"
    requests.last_thread.join(timeout=30)
    after.stop()
    [result] = joint_runner(bench).run()
    assert (result["request"], result["outcome"]) == ("x-1+n-1.json", "updated") and bench.installed() == "2.0"
