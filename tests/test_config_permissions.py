"""`gatectl config check` refuses trust anchors and keys that other local users could replace or read,
naming the path and the fix; the files the simulator and the tests generate pass."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from firmware_app.cli import main as gatectl
from firmware_app.config import parse_config
from firmware_app.config.permissions import permission_problems
from simulator.bmis_pki import make_test_pki
from simulator.scenario_bench import bench_config_text, write_trust_files

MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'
KEY_PEM = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
CERT_PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def trust(tmp_path):
    """A safe layout: 0755 trust directories with 0644 anchors, a 0600 key."""
    tmp_path.chmod(0o755)
    write_trust_files(tmp_path / "csca", {"csca.der": b"\x30\x00"})
    write_trust_files(tmp_path / "keys", {"bmis.pem": b"-----BEGIN PUBLIC KEY-----\n"})
    for name, data, mode in (("ca.pem", CERT_PEM, 0o644), ("dev.crt", CERT_PEM, 0o644), ("dev.key", KEY_PEM, 0o600)):
        (tmp_path / name).write_bytes(data)
        (tmp_path / name).chmod(mode)
    return tmp_path


def config_file(base: Path, ca="ca.pem", cert="dev.crt", key="dev.key") -> Path:
    path = base / "gate.toml"
    path.write_text(MINIMAL + f'[smartcard]\ncsca_dir = "{base / "csca"}"\n[bmis]\nca_file = "{base / ca}"\n'
                    f'cert_file = "{base / cert}"\nkey_file = "{base / key}"\ncommand_keys_dir = "{base / "keys"}"\n')
    return path


def check(path: Path, capsys) -> tuple[int, str]:
    code = gatectl(["config", "check", str(path)])
    return code, capsys.readouterr().err


def test_a_safe_layout_passes(trust, capsys):
    assert check(config_file(trust), capsys) == (0, "")


@pytest.mark.parametrize("target, mode, words", [
    ("csca", 0o777, ["smartcard.csca_dir", "writable by its group and other users", "chmod go-w"]),
    ("keys", 0o757, ["bmis.command_keys_dir", "writable by other users", "chmod go-w"]),
    ("csca/csca.der", 0o666, ["smartcard.csca_dir", "csca.der", "chmod go-w"]),
    ("keys/bmis.pem", 0o664, ["bmis.command_keys_dir", "bmis.pem", "writable by its group"]),
    ("ca.pem", 0o646, ["bmis.ca_file", "chmod go-w"]),
    ("dev.key", 0o644, ["bmis.key_file", "private key readable by its group and other users", "chmod 600"]),
    ("dev.key", 0o640, ["bmis.key_file", "readable by its group", "chmod 600"]),
])
def test_unsafe_modes_are_refused_with_the_path_and_the_fix(trust, capsys, target, mode, words):
    (trust / target).chmod(mode)
    code, err = check(config_file(trust), capsys)
    assert code == 2
    assert str(trust / target) in err
    for word in words:
        assert word in err


def test_one_file_as_certificate_key_and_ca_is_checked_as_a_key(trust, capsys):
    bundle = trust / "bundle.pem"
    bundle.write_bytes(CERT_PEM + KEY_PEM)
    bundle.chmod(0o644)
    code, err = check(config_file(trust, ca="bundle.pem", cert="bundle.pem", key="bundle.pem"), capsys)
    assert code == 2
    for role in ("bmis.ca_file", "bmis.cert_file", "bmis.key_file"):
        assert f"{role}: {bundle} holds a private key readable" in err
    bundle.chmod(0o600)
    assert check(config_file(trust, ca="bundle.pem", cert="bundle.pem", key="bundle.pem"), capsys)[0] == 0


def test_a_key_hidden_in_the_ca_file_is_still_a_key(trust, capsys):
    (trust / "ca.pem").write_bytes(CERT_PEM + KEY_PEM)
    code, err = check(config_file(trust), capsys)
    assert code == 2 and f"bmis.ca_file: {trust / 'ca.pem'} holds a private key" in err


def test_a_writable_parent_directory_is_refused(trust, capsys):
    trust.chmod(0o777)
    code, err = check(config_file(trust), capsys)
    assert code == 2 and f"{trust} (the directory holding" in err and f"chmod go-w {trust}" in err
    trust.chmod(0o1777)  # sticky, like /tmp: others cannot replace our files
    assert check(config_file(trust), capsys)[0] == 0


def test_foreign_owners_are_refused(trust, capsys):
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(trust / "keys" / "bmis.pem", 4242, 4242)
    code, err = check(config_file(trust), capsys)
    assert code == 2
    assert f"{trust / 'keys' / 'bmis.pem'} is owned by uid 4242, not by root or the gate user" in err
    assert "fix: chown root:" in err
    problems = permission_problems(parse_config(MINIMAL + f'[smartcard]\ncsca_dir = "{trust / "keys"}"\n'), euid=4242)
    assert not [p for p in problems if "owned by uid 4242" in p]  # the gate user's own file is fine


def test_the_simulators_generated_pki_and_trust_files_pass(tmp_path, capsys):
    tmp_path.chmod(0o755)
    pki = make_test_pki(tmp_path / "pki", ["gate-demo-01"])
    write_trust_files(tmp_path / "csca", {"csca.der": b"\x30\x00"})
    write_trust_files(tmp_path / "bmis-keys", {"bmis.pem": b"-"})
    broker = SimpleNamespace(pki=pki, device_port=8883)
    path = tmp_path / "bench.toml"
    path.write_text(bench_config_text(tmp_path, broker, 8080, "cute"))
    old = os.umask(0o002)  # a permissive umask must not matter
    try:
        assert check(path, capsys) == (0, "")
    finally:
        os.umask(old)


def test_master_list_roots_are_trust_anchors_too(trust, capsys):
    root = trust / "ml-root.pem"
    root.write_bytes(CERT_PEM)
    root.chmod(0o666)
    path = config_file(trust)
    path.write_text(path.read_text().replace("[bmis]", f'master_list_roots = ["{root}"]\n[bmis]'))
    code, err = check(path, capsys)
    assert code == 2 and f"smartcard.master_list_roots: {root} is writable by" in err
