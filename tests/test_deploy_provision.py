"""`gatectl provision`: identity made on the device, trust stores installed, a complete config
that `gatectl config check` accepts, and a second run that changes nothing."""
from __future__ import annotations

import json
import os
import pwd
import stat
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from cryptography.x509.oid import NameOID

from firmware_app.config import load_config
from firmware_app.config.permissions import permission_problems
from simulator.test_pki import make_csca
from tests.deploy_helpers import make_openssl_ca, needs_openssl, provision_args, run_cli

pytestmark = needs_openssl


@pytest.fixture
def trust_files(tmp_path):
    ca = make_openssl_ca(tmp_path / "post-ca")
    command_key = tmp_path / "bmis-command.pem"
    command_key.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM,
                                                                                   PublicFormat.SubjectPublicKeyInfo))
    csca = tmp_path / "csca-ut.der"
    csca.write_bytes(make_csca("provision", datetime.now(UTC)).certificate.dump())
    return ca, command_key, csca


def _all_trust(trust_files) -> list[str]:
    ca, command_key, csca = trust_files
    return ["--bmis-ca", str(ca.cert), "--command-key", str(command_key), "--csca", str(csca)]


def _snapshot(root):
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()}


def test_provision_makes_identity_trust_and_a_config_that_config_check_accepts(tmp_path, trust_files, capsys):
    code, out, err = run_cli(capsys, *provision_args(tmp_path, "root", "gate-a", "mqtt.post:8884",
                                                     *_all_trust(trust_files)), "--json")
    assert code == 0, err
    steps = {s["step"]: s["outcome"] for s in json.loads(out)["steps"]}
    assert steps["private_key"] == "created" and steps["csr"] == "created" and steps["config"] == "created"
    assert steps["bmis_ca"] == "created" and steps["command_key"] == "created" and steps["csca"] == "created"
    config_path = tmp_path / "etc" / "gate.toml"
    config = load_config(config_path)
    assert (config.device.id, config.device.post_id, config.bmis.host, config.bmis.port) == \
        ("gate-a", "post-t", "mqtt.post", 8884)
    csr = x509.load_pem_x509_csr((tmp_path / "state/identity/client.csr").read_bytes())
    key = load_pem_private_key(config.bmis.key_file.read_bytes(), None)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gate-a"
    assert csr.public_key() == key.public_key() and csr.is_signature_valid
    assert list(config.bmis.command_keys_dir.glob("*.pem")) and config.bmis.ca_file.read_bytes() == \
        trust_files[0].cert.read_bytes()
    assert any(config.smartcard.csca_dir.iterdir())
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
    assert run_cli(capsys, "config", "check", str(config_path))[0] == 0


def test_the_key_is_0600_owned_by_the_gate_user_and_the_config_passes_the_check_as_that_user(tmp_path, trust_files,
                                                                                            capsys):
    owner = pwd.getpwnam("nobody")
    code, _, err = run_cli(capsys, *provision_args(tmp_path, "nobody", "gate-a", "127.0.0.1",
                                                   *_all_trust(trust_files)))
    assert code == 0, err
    key = tmp_path / "state/identity/client.key"
    info = key.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == owner.pw_uid
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700 and key.parent.stat().st_uid == owner.pw_uid
    config_info = (tmp_path / "etc/gate.toml").stat()
    assert config_info.st_uid == 0 and config_info.st_gid == owner.pw_gid
    # What ExecStartPre (`gatectl config check` as the gate user) judges:
    assert permission_problems(load_config(tmp_path / "etc/gate.toml"), euid=owner.pw_uid) == []


def test_a_second_run_changes_nothing(tmp_path, trust_files, capsys):
    args = provision_args(tmp_path, "root", "gate-a", "127.0.0.1", *_all_trust(trust_files))
    assert run_cli(capsys, *args)[0] == 0
    before = _snapshot(tmp_path / "state") | _snapshot(tmp_path / "etc")
    code, out, _ = run_cli(capsys, *args, "--json")
    assert code == 0 and json.loads(out)["changed"] is False
    assert {s["outcome"] for s in json.loads(out)["steps"]} <= {"unchanged", "kept"}
    assert _snapshot(tmp_path / "state") | _snapshot(tmp_path / "etc") == before


def test_the_key_is_never_overwritten_without_force_and_force_keeps_the_old_one(tmp_path, capsys):
    code, out, _ = run_cli(capsys, *provision_args(tmp_path), "--json")
    assert code == 0
    missing = {s["step"]: s for s in json.loads(out)["steps"]}["bmis_ca"]
    assert missing["outcome"] == "missing" and "cannot reach the broker" in missing["detail"]
    key = tmp_path / "state/identity/client.key"
    original = key.read_bytes()
    assert run_cli(capsys, *provision_args(tmp_path, "root", "gate-b"))[0] == 0     # new id: new CSR, same key
    assert key.read_bytes() == original
    csr = x509.load_pem_x509_csr((tmp_path / "state/identity/client.csr").read_bytes())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gate-b"
    code, out, _ = run_cli(capsys, *provision_args(tmp_path, "root", "gate-b"), "--force", "--json")
    assert code == 0 and {s["step"]: s["outcome"] for s in json.loads(out)["steps"]}["private_key"] == "replaced"
    assert key.read_bytes() != original and (key.parent / "client.key.old").read_bytes() == original


def test_an_unreadable_key_is_reported_not_replaced(tmp_path, capsys):
    key = tmp_path / "state/identity/client.key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"not a key")
    code, _, err = run_cli(capsys, *provision_args(tmp_path))
    assert code == 2 and "--force" in err and key.read_bytes() == b"not a key"


def test_technician_edits_survive_a_re_run_and_a_broken_config_is_not_overwritten(tmp_path, capsys):
    assert run_cli(capsys, *provision_args(tmp_path))[0] == 0
    path = tmp_path / "etc/gate.toml"
    path.write_text(path.read_text().replace("minor_age = 18", "minor_age = 16"))
    assert run_cli(capsys, *provision_args(tmp_path, "root", "gate-a", "10.0.0.5"))[0] == 0
    config = load_config(path)
    assert config.policy.minor_age == 16 and config.bmis.host == "10.0.0.5"
    assert (tmp_path / "etc/gate.toml.bak").exists()
    path.write_text(path.read_text() + "\n[nonsense]\nx = 1\n")
    broken = path.read_bytes()
    (tmp_path / "state/identity/client.csr").unlink()
    code, _, err = run_cli(capsys, *provision_args(tmp_path, "root", "gate-a", "10.0.0.6"))
    assert code == 2 and "nonsense" in err and path.read_bytes() == broken
    assert not (tmp_path / "state/identity/client.csr").exists()        # refused before any step


def test_bad_input_is_refused_before_anything_is_written(tmp_path, capsys):
    code, _, err = run_cli(capsys, *provision_args(tmp_path, "root", "gate a!"))
    assert code == 2 and "device.id" in err and not (tmp_path / "state").exists()
    not_ca = tmp_path / "leaf.pem"
    not_ca.write_text("garbage")
    code, _, err = run_cli(capsys, *provision_args(tmp_path), "--bmis-ca", str(not_ca))
    assert code == 2 and "bmis-ca" in err
    code, _, err = run_cli(capsys, *provision_args(tmp_path, "no-such-user-here"))
    assert code == 2 and "no user" in err


def test_the_token_rides_in_the_csr(tmp_path, capsys):
    assert run_cli(capsys, *provision_args(tmp_path), "--token", "ABCD-EFGH")[0] == 0
    from firmware_app.deploy.identity import read_csr
    csr = tmp_path / "state/identity/client.csr"
    assert read_csr(csr.read_bytes()).token == "ABCD-EFGH" and stat.S_IMODE(csr.stat().st_mode) == 0o600
    assert os.path.exists(tmp_path / "state/identity/client.key")
