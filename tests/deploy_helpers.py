"""Helpers for the deployment tool tests: a post CA made with the real openssl command line, a
broker whose server certificate it signed, a gate provisioned and enrolled with gatectl."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_app.cli import main as gatectl
from simulator.bmis_pki import KeyPair, TestPki

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed (Debian package openssl)")


@dataclass(frozen=True)
class OpensslCa:
    cert: Path
    key: Path


def openssl(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run([OPENSSL, *args], input=stdin, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def make_openssl_ca(directory: Path, name: str = "post CA", days: int = 365) -> OpensslCa:
    directory.mkdir(parents=True, exist_ok=True)
    ca = OpensslCa(directory / f"{name.replace(' ', '-')}.pem", directory / f"{name.replace(' ', '-')}.key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(ca.key), "-out", str(ca.cert), "-days", str(days), "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ca.cert.chmod(0o644)
    return ca


def openssl_sign(ca: OpensslCa, csr: Path, out: Path, days: int, usage: str, san: str | None = None) -> Path:
    ext = out.with_suffix(".ext")
    ext.write_text(f"basicConstraints=critical,CA:false\nextendedKeyUsage={usage}\n"
                   + (f"subjectAltName={san}\n" if san else ""))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
            "-days", str(days), "-out", str(out), "-extfile", str(ext))
    out.chmod(0o644)
    return out


def broker_pki(directory: Path, ca: OpensslCa) -> TestPki:
    """The broker's server certificate signed by the post CA (openssl), for MosquittoBroker."""
    key, csr = directory / "server.key", directory / "server.csr"
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", "/CN=localhost")
    key.chmod(0o600)
    cert = openssl_sign(ca, csr, directory / "server.crt", 30, "serverAuth", "DNS:localhost,IP:127.0.0.1")
    return TestPki(ca.cert, KeyPair(cert, key), {})


def helper_script(directory: Path, ca: OpensslCa, days: int = 60) -> list[str]:
    """A renew_command: signs the CSR on stdin with the CA through openssl, prints the PEM."""
    script = directory / "sign-helper.py"
    script.write_text(textwrap.dedent(f"""
        import subprocess, sys, tempfile, pathlib
        work = pathlib.Path(tempfile.mkdtemp())
        (work / "req.csr").write_bytes(sys.stdin.buffer.read())
        (work / "ext").write_text("basicConstraints=critical,CA:false\\nextendedKeyUsage=clientAuth\\n")
        subprocess.run(["{OPENSSL}", "x509", "-req", "-in", str(work / "req.csr"), "-CA", "{ca.cert}",
                        "-CAkey", "{ca.key}", "-CAcreateserial", "-CAserial", str(work / "serial"),
                        "-days", "{days}", "-extfile", str(work / "ext")], check=True)
    """))
    return [sys.executable, str(script)]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = gatectl(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def provision_args(tmp_path: Path, owner: str = "root", device: str = "gate-a", broker: str = "127.0.0.1:8883",
                   *extra: str) -> list[str]:
    return ["provision", "--device-id", device, "--post-id", "post-t", "--broker", broker,
            "--config", str(tmp_path / "etc" / "gate.toml"), "--state-dir", str(tmp_path / "state"),
            "--owner", owner, *extra]


def issue_token(capsys, tokens: Path, device: str = "gate-a") -> str:
    code, out, err = run_cli(capsys, "pki", "enrol-token", device, "--tokens", str(tokens), "--json")
    assert code == 0, err
    return json.loads(out)["token"]
