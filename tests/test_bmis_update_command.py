"""The signed `update-apply` command through the command processor: answered at once, the package
fetched on its own thread, and the stored command verifies again on the root side (the same
signature over the same canonical JSON)."""
from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest

from firmware_app.bmis.commands.journal import CommandJournal
from firmware_app.bmis.commands.processor import CommandProcessor, CommandSettings
from firmware_app.bmis.commands.signing import TrustStore
from firmware_app.deploy.request_runner import verify_request
from firmware_app.deploy.requests import UpdateRequests
from tests.bmis_command_helpers import DEVICE, PREFIX, ROOT, Bmis, FakeLane
from tests.fakes import WallClock as Clock

PACKAGE = b"!<arch>\n" + b"x" * 4096      # the processor never opens it; root's updater checks it


@pytest.fixture
def served(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "border-gate_0.2.0_arm64.deb").write_bytes(PACKAGE)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/border-gate_0.2.0_arm64.deb"
    server.shutdown()


def processor(tmp_path, clock, bmis, updates, alarms=None):
    journal = CommandJournal.open(tmp_path / "commands.db", monotonic=clock.monotonic)
    sink = (lambda code, detail: alarms.append(code)) if alarms is not None else None
    return CommandProcessor(CommandSettings(PREFIX, DEVICE), trust=TrustStore.of(bmis.key.public_key()),
                            journal=journal, alerts=None, lane=FakeLane(), clock=clock, on_alarm=sink,
                            updates=updates)


def test_a_signed_update_is_answered_at_once_fetched_and_verifiable_by_root(tmp_path, served):
    clock = Clock()
    bmis = Bmis(clock)
    updates = UpdateRequests(tmp_path / "data", 1 << 20)
    digest = hashlib.sha256(PACKAGE).hexdigest()
    topic, payload = bmis.signed("update-apply", {"url": served, "sha256": digest, "version": "0.2.0"})
    result = processor(tmp_path, clock, bmis, updates).handle(topic, payload)
    assert (result["status"], result["result"]["state"]) == ("ack", "downloading")
    updates.last_thread.join(timeout=30)
    [stored] = list((tmp_path / "data" / "updates" / "requests").glob("*.json"))
    verified = verify_request(stored, trust=TrustStore.of(bmis.key.public_key()), device_root=ROOT, now=clock.now,
                              applied=[])
    assert verified.params.sha256 == digest and verified.file.read_bytes() == PACKAGE


@pytest.mark.parametrize("case", ["unsigned", "bad_params", "no_updater"])
def test_an_update_command_is_refused_before_anything_is_fetched(tmp_path, case):
    clock, alarms = Clock(), []
    bmis = Bmis(clock)
    updates = UpdateRequests(tmp_path / "data", 1 << 20)
    params = {"url": "http://127.0.0.1:9/x.deb", "sha256": "ab" * 32}
    if case == "bad_params":
        params["sha256"] = "not a hash"
    make = bmis.unsigned if case == "unsigned" else bmis.signed
    topic, payload = make("update-apply", params)
    result = processor(tmp_path, clock, bmis, None if case == "no_updater" else updates, alarms).handle(topic, payload)
    expected = {"unsigned": "unsigned", "bad_params": "invalid_params", "no_updater": "store_failed"}[case]
    assert (result["status"], result["reason"]) == ("nack", expected)
    assert updates.last_thread is None and not (tmp_path / "data" / "updates").exists()
    assert (alarms == ["command_unsigned"]) == (case == "unsigned")
