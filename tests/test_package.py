"""The Debian package (`make package`): contents, owners, modes and maintainer scripts.

Building takes about 1.5 min (wheels for every pinned dependency), so the build test carries the
`package` marker and is deselected by default: `.venv/bin/python -m pytest -m package
tests/test_package.py`. The lock and script checks below are fast and always run."""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = ("postinst", "prerm", "postrm")


def lock_pins() -> dict[str, str]:
    lines = (REPO / "requirements.lock").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_pins_every_runtime_dependency_exactly():
    pins = {norm(k): v for k, v in lock_pins().items()}
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        assert norm(re.split(r"[<>=!~ \[]", dep)[0]) in pins, dep


def test_lock_matches_the_versions_tested_here():
    for name, version in lock_pins().items():
        assert metadata.version(name) == version, name


@pytest.mark.parametrize("script", SCRIPTS)
def test_maintainer_scripts_are_valid_posix_shell(script):
    path = REPO / "packaging" / "debian" / script
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0
    assert path.stat().st_mode & 0o111 and path.read_text().startswith("#!/bin/sh\n")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run(["bash", "scripts/build-deb.sh"], cwd=REPO, capture_output=True,
                         text=True, timeout=900, env={"OUT": str(out), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-3000:]
    return Path(run.stdout.strip().splitlines()[-1])


def members(deb: Path) -> dict[str, tarfile.TarInfo]:
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True,
                          check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name.removeprefix("./"): m for m in tar.getmembers()}, data


@pytest.mark.package
@pytest.mark.timeout(900)
def test_package_contents_owners_and_modes(deb):
    files, _ = members(deb)
    for path in ("opt/border-gate/requirements.lock", "opt/border-gate/requirements.hashes",
                 "etc/border-gate/gate.toml", "lib/systemd/system/gate-app.service",
                 "lib/systemd/system/kiosk-browser.service", "lib/systemd/system/gate-cert-renew.service",
                 "lib/systemd/system/gate-cert-renew.timer",
                 "lib/udev/rules.d/60-border-gate-serial.rules",
                 "usr/share/polkit-1/rules.d/60-border-gate-pcscd.rules",
                 "opt/border-gate/models/SHA256SUMS"):
        assert path in files, path
    assert all((m.uname, m.gname, m.uid, m.gid) == ("root", "root", 0, 0) for m in files.values())
    assert files["etc/border-gate"].mode == 0o750
    assert files["etc/border-gate/gate.toml"].mode == 0o640
    assert not any(m.mode & 0o002 for m in files.values())  # nothing world-writable
    assert not any(p.startswith(("opt/border-gate/.venv", "var/")) for p in files)


@pytest.mark.package
@pytest.mark.timeout(900)
def test_package_control_and_maintainer_scripts(deb, tmp_path):
    subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path / "c")], check=True)
    control = (tmp_path / "c" / "control").read_text()
    assert "Package: border-gate" in control and "Architecture: amd64" in control
    assert (tmp_path / "c" / "conffiles").read_text().split() == ["/etc/border-gate/gate.toml"]
    for script in SCRIPTS:
        assert (tmp_path / "c" / script).stat().st_mode & 0o777 == 0o755
    postinst = (tmp_path / "c" / "postinst").read_text()
    for needle in ("ensure_user gate", "ensure_user kiosk", "--require-hashes", "--no-index",
                   "--system-site-packages", "sha256sum", "enable gate-cert-renew.timer"):
        assert needle in postinst


@pytest.mark.package
@pytest.mark.timeout(900)
def test_bundled_wheels_and_models_match_their_hashes(deb, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    app = tmp_path / "opt" / "border-gate"
    wheels = {p.name: p for p in (app / "wheelhouse").glob("*.whl")}
    hashes = (app / "requirements.hashes").read_text().splitlines()
    assert len(hashes) == len(wheels) == len(lock_pins()) + 1  # + the app itself
    for line in hashes:
        digest = line.split("sha256:")[1]
        assert any(hashlib.sha256(p.read_bytes()).hexdigest() == digest for p in wheels.values())
    check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=app / "models",
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    manifest = json.loads((app / "models" / "manifest.json").read_text())
    assert manifest["models"]["detector"]["sha256"] in (app / "models" / "SHA256SUMS").read_text()
    config = tomllib.loads((tmp_path / "etc" / "border-gate" / "gate.toml").read_text())
    assert config["device"]["data_dir"] == "/var/lib/border-gate"
    assert config["face"]["models_dir"] == "/opt/border-gate/models"
    assert config["smartcard"]["csca_dir"] == "/var/lib/border-gate/csca"
    assert config["bmis"]["command_keys_dir"] == "/etc/border-gate/bmis-keys"
    gatectl = REPO / ".venv" / "bin" / "gatectl"
    if gatectl.exists() and shutil.which("sh"):
        run = subprocess.run([str(gatectl), "config", "check", str(tmp_path / "etc/border-gate/gate.toml")],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
