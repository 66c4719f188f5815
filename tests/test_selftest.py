"""`gatectl selftest`: changes no state, names simulated devices, checks identity and clock."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware_app.appliance.selftest import Status, check_camera, check_gate, check_outbox, check_reader
from firmware_app.appliance.selftest_identity import check_client_certificate
from firmware_app.bmis.outbox.storage import inspect_outbox
from firmware_app.bmis.wiring import OUTBOX_FILE, open_outbox
from firmware_app.cli import main as gatectl
from firmware_app.config import parse_config

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\ndata_dir = "{data}"\n[reader]\nurl = "sim://"\n'


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(MINIMAL.format(data=tmp_path / "var") + extra)
    return path


def config(tmp_path: Path, extra: str = ""):
    return parse_config(write_config(tmp_path, extra).read_text())


def test_selftest_leaves_the_outbox_boot_counter_alone(tmp_path, capsys):
    cfg = config(tmp_path)
    cfg.device.data_dir.mkdir(parents=True)
    open_outbox(cfg).close()
    before = inspect_outbox(cfg.device.data_dir / OUTBOX_FILE, 0.0)["boot"]
    gatectl(["selftest", "--config", str(write_config(tmp_path)), "--base-dir", str(REPO)])
    assert inspect_outbox(cfg.device.data_dir / OUTBOX_FILE, 0.0)["boot"] == before == 1
    assert "0 pending" in capsys.readouterr().out


def test_selftest_creates_no_outbox(tmp_path):
    cfg = config(tmp_path)
    result = check_outbox(cfg)
    assert result.status is Status.OK and "no outbox yet" in result.detail
    assert not (cfg.device.data_dir / OUTBOX_FILE).exists()


def test_simulated_devices_are_skipped_and_named(tmp_path):
    cfg = config(tmp_path, '[camera]\nurl = "sim://"\n')
    for result in (check_camera(cfg), check_gate(cfg), check_reader(cfg)):
        assert result.status is Status.SKIP and result.detail.startswith("skipped (simulated)")


def test_a_missing_reader_device_fails(tmp_path):
    text = MINIMAL.replace('"sim://"', f'"{tmp_path}/ttyACM9"').format(data=tmp_path / "var")
    result = check_reader(parse_config(text))
    assert result.status is Status.FAIL and "does not exist" in result.detail


def test_json_carries_overall_status_version_and_device(tmp_path, capsys):
    from firmware_app import __version__
    code = gatectl(["selftest", "--json", "--config", str(write_config(tmp_path)), "--base-dir", str(REPO)])
    report = json.loads(capsys.readouterr().out)
    assert (report["version"], report["device_id"]) == (__version__, "g1")
    # No bmis.ca_file in this config: the broker check fails, so the whole run fails.
    assert report["status"] == "fail" and code == 1
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["camera"] == statuses["gate inputs"] == statuses["mrz reader"] == "skip"


# --- client certificate --------------------------------------------------------------------------
def make_pair(tmp_path: Path, cn: str, days: int, other_key: bool = False) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=days)).sign(key, hashes.SHA256()))
    if other_key:
        key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return f'[bmis]\ncert_file = "{tmp_path / "c.pem"}"\nkey_file = "{tmp_path / "k.pem"}"\n'


@pytest.mark.parametrize("cn, days, other_key, status, words", [
    ("g1", 365, False, Status.OK, "key matches"),
    ("g1", 10, False, Status.WARN, "10 days"),
    ("g2", 365, False, Status.FAIL, "not the device id"),
    ("g1", 365, True, Status.FAIL, "does not belong"),
    ("g1", -1, False, Status.FAIL, "not valid now"),
])
def test_client_certificate(tmp_path, cn, days, other_key, status, words):
    result = check_client_certificate(config(tmp_path, make_pair(tmp_path, cn, days, other_key)), NOW)
    assert result.status is status and words in result.detail


def test_no_client_certificate_is_a_warning(tmp_path):
    assert check_client_certificate(config(tmp_path), NOW).status is Status.WARN


@pytest.mark.parametrize("tool", ["gatectl", "gatesim", "gate-app"])
def test_version_everywhere(tool):
    from firmware_app import __version__
    out = subprocess.run([str(Path(sys.executable).parent / tool), "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"{tool} {__version__}"
