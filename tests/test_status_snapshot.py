"""The status snapshot's parts: versions, certificate expiry, recent events (codes only), and the
health message's 1.2 fields checked against the contract."""
from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware_app.bmis import contract
from firmware_app.bmis.contract import Identity, MessageKind, validate_message
from firmware_app.bmis.errors import ContractViolation
from firmware_app.status.events import RecentEvents
from firmware_app.status.snapshot import StatusSources, build_snapshot, health_info
from firmware_app.status.versions import certificate_expiry, model_versions

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def certificate(path: Path, not_after: dt.datetime) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gate-s")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_certificate_expiry_in_days(tmp_path):
    cert = certificate(tmp_path / "gate.pem", NOW + dt.timedelta(days=6, hours=23))
    assert certificate_expiry(cert, NOW) == {"not_after": "2026-12-13T08:00:00Z", "days_left": 6}
    assert certificate_expiry(None, NOW) is None
    (tmp_path / "bad.pem").write_text("not a certificate")
    assert "error" in certificate_expiry(tmp_path / "bad.pem", NOW)


def test_model_versions_from_the_manifest(tmp_path):
    shutil.copy(ROOT / "models" / "manifest.json", tmp_path / "manifest.json")
    found = model_versions(tmp_path)
    assert set(found["models"]) >= {"detector", "recognizer"} and found["pad_available"] is False
    assert not found["models"]["detector"]["present"]
    assert model_versions(tmp_path / "none") == {"error": "no readable manifest"}


def test_recent_events_keep_codes_only_newest_first():
    events = RecentEvents(maxlen=3)
    record = {"ended_at": "2026-12-06T09:00:00Z", "outcome": "referred",
              "document": {"document_number": "L898902C3", "primary_identifier": "ERIKSSON"},
              "decision": {"outcome": "refer", "reasons": ["face_mismatch", "alert_list_hit"]}}
    events.crossing(record)
    events.exception("door_forced", "2026-12-06T09:01:00Z")
    for n in range(3):
        events.alarm(f"alarm_{n}")
    last = events.last()
    assert [e.get("outcome") for e in last] == ["alarm_2", "alarm_1", "alarm_0"]
    events = RecentEvents()
    events.crossing(record)
    [entry] = events.last()
    assert entry == {"time": "2026-12-06T09:00:00Z", "kind": "crossing", "outcome": "referred",
                     "reasons": ["face_mismatch", "alert_list_hit"]}
    assert "L898902C3" not in repr(events.last()) and "ERIKSSON" not in repr(events.last())


def test_a_one_stop_posts_events_leave_out_the_alert_codes():
    """Both authorities see the device's last events: an alert-list hit is one authority's alone
    (a single-authority lane keeps them, above)."""
    from firmware_app.appliance.field_ops import ALERT_CODES
    events = RecentEvents(withheld=ALERT_CODES)
    events.crossing({"outcome": "referred", "decision": {"reasons": ["exit_ban", "face_mismatch", "alert_list_hit"]}})
    events.alarm("alert_list_hit")
    events.alarm("tamper")
    assert [(e["kind"], e["outcome"], e.get("reasons")) for e in events.last()] == [
        ("alarm", "tamper", None), ("crossing", "referred", ["face_mismatch"])]


def test_an_agreement_may_keep_every_rule_reason_out_of_the_events(tmp_path):
    """[onestop] status_reasons = "none": a crossing shows its outcome only; "rules" (the default)
    keeps the rule reasons but never the alert data; a single-authority lane keeps every reason."""
    from firmware_app.appliance.field_ops import recent_events
    from firmware_app.config import parse_config
    from firmware_app.policy.onestop import Role
    from tests.test_app_assembly import config_text
    from tests.test_onestop_appliance import authority
    crossing = {"outcome": "referred", "decision": {"reasons": ["visa_required", "alert_list_hit"]}}

    def shown(onestop: str | None) -> list | None:
        text = config_text(tmp_path)
        if onestop is not None:
            text += ('[onestop]\nshared_fields = ["document_number"]\n' + onestop
                     + authority(Role.EXIT, tmp_path, None)
                     + authority(Role.ENTRY, tmp_path, None).replace("port = 8003", "port = 8004"))
        events = recent_events(parse_config(text))
        events.crossing(crossing)
        return events.last()[0].get("reasons")

    assert shown(None) == ["visa_required", "alert_list_hit"]
    assert shown("") == ["visa_required"]
    assert shown('status_reasons = "rules"\n') == ["visa_required"]
    assert shown('status_reasons = "none"\n') is None


def test_a_failing_source_is_reported_in_place():
    def broken():
        raise OSError("gone")
    sources = StatusSources("gate-s", lambda: "idle", lambda: "normal", broken, lambda: {"lane": {"status": "ok"}},
                            lambda: None, lambda: None, versions={"app": "0.1.0"}, clock=lambda: NOW,
                            monotonic=lambda: 110.0, started=10.0)
    snap = build_snapshot(sources)
    assert snap["outbox"] == {"error": "OSError"} and snap["state"] == "idle" and snap["uptime_s"] == 100.0


def test_the_health_message_carries_versions_certificate_and_last_update(tmp_path):
    shutil.copy(ROOT / "models" / "manifest.json", tmp_path / "manifest.json")
    versions = {"app": "0.1.0", "models": model_versions(tmp_path)}
    cert = certificate_expiry(certificate(tmp_path / "c.pem", NOW + dt.timedelta(days=30)), NOW)
    info = health_info(versions, cert, {"outcome": "rolled_back", "to_version": "0.2.0"})
    data = {"components": {"lane": {"status": "ok"}}, "uptime_s": 5.0, **info}
    message = contract.build(Identity("gate-s", "post-s"), MessageKind.HEALTH, data, msg_id=uuid.uuid4(), seq=1,
                             boot=1, now=NOW)
    validate_message(MessageKind.HEALTH, message)
    assert message["schema"] == "health/1.2"
    assert info["certificate"]["days_left"] == 30 and info["last_update"]["outcome"] == "rolled_back"
    message["data"]["models"]["detector"]["sha256"] = "not hex"
    with pytest.raises(ContractViolation):
        validate_message(MessageKind.HEALTH, message)
