"""The package installed into a clean Debian 12 root (chroot) and the appliance started there.

Needs root, debootstrap and Debian's registry once: the clean root is built by debootstrap into
build/debian12/root (gitignored) and copied for each run. About a minute (plus the package build),
so it carries the `package` marker: `.venv/bin/python -m pytest -m package tests/test_package_install.py`.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_package import deb  # noqa: F401  (the package-building fixture)

pytestmark = [pytest.mark.package, pytest.mark.timeout(900)]  # a loaded 2-core machine is slow
REPO = Path(__file__).resolve().parents[1]
CACHED_ROOT = REPO / "build" / "debian12" / "root"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
INCLUDE = "python3,python3-venv,adduser,systemd,udev,pcscd,libpcsclite1"


def clean_root() -> Path:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.skip("needs root and debootstrap (apt-get install debootstrap)")
    if not (CACHED_ROOT / "usr" / "bin" / "python3").exists():
        shutil.rmtree(CACHED_ROOT, ignore_errors=True)
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", "bookworm",
                        str(CACHED_ROOT), "http://deb.debian.org/debian"],
                       check=True, capture_output=True, timeout=900)
    return CACHED_ROOT


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    target = tmp_path_factory.mktemp("debian12") / "root"
    subprocess.run(["cp", "-a", str(clean_root()), str(target)], check=True)
    shutil.copy(deb, target / "tmp" / "border-gate.deb")
    run = chroot(target, "dpkg", "-i", "/tmp/border-gate.deb")
    assert run.returncode == 0, run.stdout + run.stderr
    yield target
    shutil.rmtree(target, ignore_errors=True)


def chroot(root: Path, *command: str, user: str | None = None, env: dict | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
    spec = [f"--userspec={user}:{user}"] if user else []
    return subprocess.run(["chroot", *spec, str(root), *command], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout)


def stat_of(root: Path, path: str) -> str:
    return chroot(root, "stat", "-c", "%U:%G %a", path).stdout.strip()


def test_users_directories_and_units(root):
    assert set(chroot(root, "id", "-nG", "gate").stdout.split()) >= {"gate", "dialout", "gpio", "video"}
    assert set(chroot(root, "id", "-nG", "kiosk").stdout.split()) >= {"kiosk", "video", "render", "input"}
    assert stat_of(root, "/etc/border-gate") == "root:gate 750"
    assert stat_of(root, "/etc/border-gate/gate.toml") == "root:gate 640"
    assert stat_of(root, "/var/lib/border-gate") == "gate:gate 750"
    assert stat_of(root, "/var/lib/border-gate/csca") == "gate:gate 750"
    assert stat_of(root, "/etc/border-gate/bmis-keys") == "root:gate 750"
    assert (root / "etc/systemd/system/multi-user.target.wants/gate-app.service").is_symlink()
    assert (root / "etc/systemd/system/multi-user.target.wants/border-gate-update.path").is_symlink()
    # DeviceAllow= for exactly the configured devices: the shipped config simulates them all
    drop_in = (root / "etc/systemd/system/gate-app.service.d/devices.conf").read_text()
    assert [line for line in drop_in.splitlines() if line.startswith("DeviceAllow")] == ["DeviceAllow="]
    version = chroot(root, "/opt/border-gate/.venv/bin/gatectl", "--version")
    assert version.returncode == 0 and version.stdout.startswith("gatectl ")
    check = chroot(root, "/opt/border-gate/.venv/bin/gatectl", "config", "check", "/etc/border-gate/gate.toml",
                   user="gate")
    assert check.returncode == 0, check.stdout + check.stderr


def test_gate_cannot_write_the_app_or_config(root):
    for path in ("/opt/border-gate/models/manifest.json", "/etc/border-gate/gate.toml"):
        assert chroot(root, "sh", "-c", f": >> {path}", user="gate").returncode != 0, path


def start_app(root: Path, notify: socket.socket) -> subprocess.Popen:
    env = {**ENV, "NOTIFY_SOCKET": "/run/notify.sock", "WATCHDOG_USEC": "2000000"}
    return subprocess.Popen(["chroot", "--userspec=gate:gate", str(root), "/opt/border-gate/.venv/bin/gate-app",
                             "--config", "/etc/border-gate/gate.toml"], env=env, cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def notifications(notify: socket.socket, app: subprocess.Popen, pings: int, limit_s: float = 60) -> list[str]:
    messages, end = [], time.monotonic() + limit_s
    while time.monotonic() < end and app.poll() is None and sum(m == "WATCHDOG=1" for m in messages) < pings:
        try:
            messages += notify.recv(4096).decode().splitlines()
        except TimeoutError:
            pass
    return messages


@pytest.fixture
def notify(root):
    path = root / "run" / "notify.sock"
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    path.chmod(0o777)   # the app runs as `gate`
    sock.settimeout(1)
    yield sock
    sock.close()


def test_the_appliance_starts_on_simulated_devices_and_comes_back_after_sigkill(root, notify):
    for attempt in range(2):
        app = start_app(root, notify)
        try:
            seen = notifications(notify, app, pings=2)
        finally:
            # The first run is SIGKILLed (a crash); the second stops in order on SIGTERM.
            app.kill() if attempt == 0 else app.terminate()
            output = app.communicate(timeout=60)[0]
        assert "READY=1" in seen and seen.count("WATCHDOG=1") >= 2, output[-3000:]
        assert seen.index("READY=1") < seen.index("WATCHDOG=1")
        assert "doors secured" in output.split("lane running")[0], output[-3000:]
        assert "SIMULATED DEVICE" in output


def test_the_installed_package_can_be_kept_for_a_rollback(root):
    keep = chroot(root, "/opt/border-gate/.venv/bin/gatectl", "update", "keep", "/tmp/border-gate.deb",
                  "--config", "/etc/border-gate/gate.toml", "--json")
    assert keep.returncode == 0, keep.stdout + keep.stderr
    status = chroot(root, "/opt/border-gate/.venv/bin/gatectl", "update", "status", "--config",
                    "/etc/border-gate/gate.toml", "--json")
    assert status.returncode == 0 and '"kept": [' in status.stdout, status.stdout + status.stderr
