"""Certificate renewal against a real mosquitto (TLS, client certificates) whose CA is a real
openssl CA: fetched to .new, tried on the broker, swapped; the old pair kept on any failure.
Also the expiry warnings in health at 30/7/1 days."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from firmware_app.bmis.contract import Identity, MessageKind
from firmware_app.bmis.health import health_components
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.config import load_config
from firmware_app.deploy.cert_expiry import certificate_health, expiry_entry
from firmware_app.deploy.identity import load_private_key
from firmware_app.deploy.renew import IdentityFiles, RenewOutcome, _renewal_key, _write_csr, finish_torn_swap, renew
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from tests.deploy_helpers import (
    broker_pki,
    helper_script,
    issue_token,
    make_openssl_ca,
    needs_openssl,
    openssl_sign,
    provision_args,
    run_cli,
)

pytestmark = needs_openssl
SYSTEMD = Path(__file__).resolve().parents[1] / "systemd"


@pytest.fixture
def post(tmp_path):
    ca = make_openssl_ca(tmp_path / "ca")
    try:
        broker = MosquittoBroker(tmp_path / "broker", broker_pki(tmp_path / "ca", ca)).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    yield ca, broker
    broker.stop()


def _enrolled_gate(tmp_path, capsys, ca, broker, validity_days: int = 10) -> Path:
    """Provisioned against the broker, enrolled with a short-lived certificate (renewal due)."""
    assert run_cli(capsys, *provision_args(tmp_path, "root", "gate-a", f"127.0.0.1:{broker.device_port}"),
                   "--bmis-ca", str(ca.cert))[0] == 0
    laptop = tmp_path / "laptop.toml"
    laptop.write_text('[device]\nid = "laptop"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                      f"[identity]\ncert_validity_days = {validity_days}\nrenew_before_days = 1\n")
    tokens = tmp_path / "tokens.db"
    csr, cert = tmp_path / "state/identity/client.csr", tmp_path / "gate-a.crt"
    code, _, err = run_cli(capsys, "pki", "sign-device", str(csr), "--ca-cert", str(ca.cert), "--ca-key",
                           str(ca.key), "--tokens", str(tokens), "--token", issue_token(capsys, tokens),
                           "--config", str(laptop), "--out", str(cert))
    assert code == 0, err
    config = tmp_path / "etc/gate.toml"
    assert run_cli(capsys, "cert", "install", str(cert), "--config", str(config))[0] == 0
    return config


def _set_helper(config: Path, argv: list[str], verify_timeout_s: float = 20.0) -> None:
    """The verify timeout only bounds a broker that never answers: a refusal fails at once."""
    text = re.sub(r"(?m)^renew_command = .*$", lambda _: f"renew_command = {json.dumps(argv)}", config.read_text())
    config.write_text(re.sub(r"(?m)^verify_timeout_s = .*$", f"verify_timeout_s = {verify_timeout_s}", text))


def _state(config: Path) -> tuple[bytes, bytes]:
    files = IdentityFiles.of(load_config(config))
    return files.cert.read_bytes(), files.key.read_bytes()


def test_renewal_fetches_verifies_on_the_broker_and_swaps(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker)
    _set_helper(config, helper_script(tmp_path, ca, days=60))
    old_cert, old_key = _state(config)
    code, out, err = run_cli(capsys, "cert", "renew", "--config", str(config), "--json")
    assert code == 0 and json.loads(out)["outcome"] == "renewed", out + err
    new_cert, new_key = _state(config)
    assert new_cert != old_cert and new_key != old_key                 # a new key per renewal
    cert = x509.load_pem_x509_certificate(new_cert)
    assert cert.not_valid_after_utc - datetime.now(UTC) > timedelta(days=59)
    identity = tmp_path / "state/identity"
    assert ((identity / "client.crt.old").read_bytes() == old_cert
            and (identity / "client.key.old").read_bytes() == old_key)
    assert not (identity / "client.crt.new").exists() and not (identity / "client.key.new").exists()
    assert (identity / "client.key").stat().st_mode & 0o077 == 0
    log = (broker.workdir / "mosquitto.log").read_text()
    assert "gate-a-certcheck" in log                                   # it really connected with it
    code, out, _ = run_cli(capsys, "cert", "renew", "--config", str(config), "--json")
    assert code == 0 and json.loads(out)["outcome"] == "not_due"


def test_a_certificate_the_broker_refuses_is_never_swapped_in(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker)
    rogue = make_openssl_ca(tmp_path / "rogue", "rogue CA")
    _set_helper(config, helper_script(tmp_path, rogue), 20.0)          # CN and key right, issuer unknown
    before = _state(config)
    started = time.monotonic()
    code, _, err = run_cli(capsys, "cert", "renew", "--config", str(config))
    assert code == 1 and "did not accept" in err and "stays in use" in err
    assert time.monotonic() - started < 5.0, err          # the refusal ends the probe, not the 20 s timeout
    assert "within" not in err                            # the broker's refusal, not a timeout
    assert _state(config) == before
    assert (tmp_path / "state/identity/client.crt.rejected").exists()
    # the next run, with the post CA answering again, renews with the pending key
    _set_helper(config, helper_script(tmp_path, ca))
    pending_key = (tmp_path / "state/identity/client.key.new").read_bytes()
    code, _, err = run_cli(capsys, "cert", "renew", "--config", str(config))
    assert code == 0, err
    assert _state(config)[1] == pending_key


def test_a_helper_answering_garbage_or_another_devices_certificate_changes_nothing(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker)
    before = _state(config)
    _set_helper(config, ["/bin/sh", "-c", "echo nothing here"])
    code, _, err = run_cli(capsys, "cert", "renew", "--config", str(config))
    assert code == 1 and "PEM certificate" in err and _state(config) == before
    _set_helper(config, ["/bin/sh", "-c", f"cat {tmp_path / 'ca' / 'server.crt'}"])
    code, _, err = run_cli(capsys, "cert", "renew", "--config", str(config))
    assert code == 1 and "not the device id" in err and _state(config) == before


def test_without_a_helper_the_csr_waits_for_a_technician(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker)
    code, out, _ = run_cli(capsys, "cert", "renew", "--config", str(config), "--json")
    assert code == 1 and json.loads(out)["outcome"] == "waiting_for_signature"
    csr = tmp_path / "state/identity/renew.csr"
    signed = tmp_path / "renewed.crt"
    code, _, err = run_cli(capsys, "pki", "sign-device", str(csr), "--ca-cert", str(ca.cert), "--ca-key",
                           str(ca.key), "--tokens", str(tmp_path / "tokens.db"), "--out", str(signed),
                           "--token", issue_token(capsys, tmp_path / "tokens.db"))
    assert code == 0, err
    code, out, err = run_cli(capsys, "cert", "install", str(signed), "--config", str(config))
    assert code == 0 and "new certificate in use" in out, err
    assert _state(config)[0] == signed.read_bytes()


def test_a_swap_cut_between_its_two_renames_is_finished(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker, validity_days=300)
    files = IdentityFiles.of(load_config(config))
    _set_helper(config, helper_script(tmp_path, ca))
    # Do a renewal by hand up to the first rename: key swapped, certificate still pending.
    key = load_private_key(_renewal_key(files) and files.new_key.read_bytes())
    openssl_sign(ca, _write_csr(files, key, "gate-a"), files.new_cert, 300, "clientAuth")
    shutil.move(files.new_key, files.key)
    assert finish_torn_swap(files)
    assert x509.load_pem_x509_certificate(files.cert.read_bytes()).public_key() == \
        load_private_key(files.key.read_bytes()).public_key()
    outcome = renew(load_config(config), datetime.now(UTC), probe=lambda c, k: None)
    assert outcome.outcome is RenewOutcome.NOT_DUE


@pytest.mark.parametrize(("left", "status", "detail"), [
    (timedelta(days=45), "ok", None), (timedelta(days=29, hours=23), "degraded", "cert_expires_within_30d"),
    (timedelta(days=6), "degraded", "cert_expires_within_7d"),
    (timedelta(hours=20), "degraded", "cert_expires_within_1d"),
    (timedelta(seconds=-1), "failed", "cert_expired")])
def test_health_warns_at_30_7_and_1_days(left, status, detail, tmp_path):
    now = datetime(2026, 12, 6, tzinfo=UTC)
    entry = expiry_entry(now + left, now)
    assert entry["status"] == status and (detail is None or entry["detail"] == detail)
    outbox = Outbox(tmp_path / "o.db", Identity("gate-a", "post-t"), clock=lambda: now, id_source=uuid.uuid4)
    stored = outbox.add(MessageKind.HEALTH, {"components": health_components({"certificate": entry})})  # health.json
    outbox.close()
    assert json.loads(stored.payload)["data"]["components"]["certificate"] == entry


def test_the_appliance_health_carries_the_certificate(tmp_path, capsys):
    from gpiozero.pins.mock import MockFactory

    from firmware_app.appliance.core import Appliance, Overrides
    from tests.test_clock_sync import clock_config
    assert run_cli(capsys, *provision_args(tmp_path))[0] == 0
    cert = tmp_path / "cert.pem"
    ca = make_openssl_ca(tmp_path / "ca", days=5)
    cert.write_bytes(ca.cert.read_bytes())
    config = clock_config(tmp_path).model_copy(update={"bmis": load_config(tmp_path / "etc/gate.toml").bmis
                                                       .model_copy(update={"cert_file": cert})})
    assert certificate_health(cert, datetime.now(UTC))["detail"] == "cert_expires_within_7d"
    appliance = Appliance(config, overrides=Overrides(pin_factory=MockFactory()), base_dir=tmp_path)
    appliance.build()
    try:
        assert appliance.health()["certificate"]["detail"] == "cert_expires_within_7d"
        cert.write_bytes(make_openssl_ca(tmp_path / "ca2", days=400).cert.read_bytes())   # renewed under it
        certificate = appliance.health()["certificate"]
        assert certificate["detail"] == "cert_expires_within_7d"          # the connection still holds the old one
        assert "next reconnection" in certificate["note"]
    finally:
        appliance.stop()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_renewal_timer_verifies(tmp_path):
    from tests.test_systemd_units import with_stand_in_binaries
    service = with_stand_in_binaries(SYSTEMD / "gate-cert-renew.service", tmp_path)
    timer = tmp_path / "gate-cert-renew.timer"
    timer.write_text((SYSTEMD / "gate-cert-renew.timer").read_text())
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(timer), str(service)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
