"""The Raspberry Pi OS image recipe (packaging/image): a pi-gen stage. Building the image needs
root, arm64 and a network mirror, so CI does not; these tests check what can be checked here: the
stage's layout as pi-gen reads it, every script's syntax, the stage scripts run against a fake root
with pi-gen's `on_chroot` replaced by a recorder, and that what they name exists in this repo."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from firmware_app.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "packaging" / "image"
STAGE = IMAGE / "stage-border-gate"
SUBSTAGE_FILE = re.compile(r"^\d\d-(run\.sh|run-chroot\.sh|packages|packages-nr|debconf|patches)$")
SCRIPTS = sorted([*IMAGE.rglob("*.sh"), *STAGE.rglob("border-gate-datafs"), *STAGE.rglob("border-gate-maintenance")])
ANALYZE = shutil.which("systemd-analyze")


def test_the_stage_is_laid_out_as_pi_gen_reads_it():
    assert (STAGE / "prerun.sh").read_text().count("copy_previous") == 1
    assert "IMG_SUFFIX=" in (STAGE / "EXPORT_IMAGE").read_text()
    substages = sorted(p.name for p in STAGE.iterdir() if p.is_dir())
    assert substages == ["00-install-package", "01-enable-units", "02-readonly-root"]
    for sub in substages:
        for item in (STAGE / sub).iterdir():
            assert item.name == "files" or SUBSTAGE_FILE.match(item.name), item


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(IMAGE)))
def test_every_script_is_executable_bash_with_valid_syntax(script):
    assert script.stat().st_mode & 0o111 and script.read_text().startswith("#!/bin/bash")
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_what_the_stage_names_exists_here():
    control = (ROOT / "packaging/debian/control.in").read_text()
    assert "Package: border-gate\n" in control
    assert 'border-gate_${VERSION}_${ARCH}.deb' in (ROOT / "scripts/build-deb.sh").read_text()
    for unit in ("gate-app", "gate-safety", "kiosk-browser"):
        assert (ROOT / "systemd" / f"{unit}.service").is_file()
    build_parser().parse_args(["update", "keep", "/tmp/x.deb", "--config", "/etc/border-gate/gate.toml"])
    fstab = [line for line in (STAGE / "02-readonly-root/01-run.sh").read_text().splitlines()
             if line.strip().startswith("echo 'LABEL=gatedata")]
    assert len(fstab) == 1 and len(fstab[0].split("'")[1].split()) == 6


def fake_pi_gen(tmp_path: Path) -> dict:
    rootfs = tmp_path / "rootfs"
    for d in ("boot/firmware", "etc/systemd/system", "usr/local/sbin", "tmp"):
        (rootfs / d).mkdir(parents=True)
    (rootfs / "boot/firmware/cmdline.txt").write_text(
        "console=tty1 root=PARTUUID=abc-02 rootfstype=ext4 fsck.repair=yes rootwait "
        "init=/usr/lib/raspberrypi-sys-mods/firstboot\n")
    (rootfs / "etc/fstab").write_text("proc /proc proc defaults 0 0\n")
    log = tmp_path / "chroot.log"
    return {**os.environ, "ROOTFS_DIR": str(rootfs), "CHROOT_LOG": str(log), "BORDER_GATE_KIOSK": "1"}


def run_stage_script(substage: str, script: str, env: dict) -> subprocess.CompletedProcess:
    # pi-gen runs NN-run.sh from its substage directory with on_chroot exported as a function.
    wrapper = 'on_chroot() { cat >> "$CHROOT_LOG"; echo "#--" >> "$CHROOT_LOG"; }; export -f on_chroot; ' \
              f'exec ./{script}'
    return subprocess.run(["bash", "-c", wrapper], cwd=STAGE / substage, env=env, capture_output=True, text=True)


def test_the_read_only_root_substage_sets_the_overlay_and_the_data_partition_idempotently(tmp_path):
    env = fake_pi_gen(tmp_path)
    for _ in range(2):
        run = run_stage_script("02-readonly-root", "01-run.sh", env)
        assert run.returncode == 0, run.stderr
    rootfs = Path(env["ROOTFS_DIR"])
    cmdline = (rootfs / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("overlayroot=tmpfs:recurse=0") == 1 and "firstboot" not in cmdline
    assert len(cmdline.splitlines()) == 1
    assert (rootfs / "etc/fstab").read_text().count("LABEL=gatedata /var/lib/border-gate ext4") == 1
    for unit in ("gate-app", "gate-safety"):
        assert "RequiresMountsFor=/var/lib/border-gate" in \
            (rootfs / f"etc/systemd/system/{unit}.service.d/persistent-state.conf").read_text()
    assert os.access(rootfs / "usr/local/sbin/border-gate-datafs", os.X_OK)
    chroot = Path(env["CHROOT_LOG"]).read_text()
    assert "systemctl enable border-gate-datafs.service" in chroot and "update-initramfs" in chroot


def test_the_install_and_units_substages_install_register_and_enable(tmp_path):
    env = fake_pi_gen(tmp_path)
    stage_copy = tmp_path / "stage"
    shutil.copytree(STAGE, stage_copy)
    files = stage_copy / "00-install-package" / "files"
    run = subprocess.run(["bash", "-c", 'on_chroot() { cat >> "$CHROOT_LOG"; }; export -f on_chroot; exec ./00-run.sh'],
                         cwd=stage_copy / "00-install-package", env=env, capture_output=True, text=True)
    assert run.returncode == 1 and "expected exactly one" in run.stderr      # no package put in yet
    (files / "border-gate_0.1.0_arm64.deb").write_bytes(b"!<arch>\n")
    run = subprocess.run(["bash", "-c", 'on_chroot() { cat >> "$CHROOT_LOG"; }; export -f on_chroot; exec ./00-run.sh'],
                         cwd=stage_copy / "00-install-package", env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run_stage_script("01-enable-units", "00-run.sh", env).returncode == 0
    chroot = Path(env["CHROOT_LOG"]).read_text()
    assert "apt-get install -y --no-install-recommends /tmp/border-gate.deb polkitd cage chromium" in chroot
    assert "gatectl update keep /tmp/border-gate.deb --config /etc/border-gate/gate.toml" in chroot
    assert "systemctl enable gate-app.service gate-safety.service kiosk-browser.service" in chroot
    assert (Path(env["ROOTFS_DIR"]) / "tmp/border-gate.deb").is_file()
    assert subprocess.run(["bash", "-n"], input=chroot, text=True).returncode == 0


def test_prepare_stage_copies_the_stage_and_the_arm64_package_into_pi_gen(tmp_path):
    pi_gen = tmp_path / "pi-gen"
    (pi_gen / "stage2").mkdir(parents=True)
    deb = tmp_path / "border-gate_0.1.0_arm64.deb"
    deb.write_bytes(b"x")
    amd64 = tmp_path / "border-gate_0.1.0_amd64.deb"
    amd64.write_bytes(b"x")
    script = str(IMAGE / "prepare-stage.sh")
    assert subprocess.run([script, str(pi_gen), str(amd64)], capture_output=True).returncode == 2
    run = subprocess.run([script, str(pi_gen), str(deb)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (pi_gen / "stage-border-gate/00-install-package/files/border-gate_0.1.0_arm64.deb").is_file()
    assert (pi_gen / "stage2/SKIP_IMAGES").exists() and "stage-border-gate" in (pi_gen / "config").read_text()


def test_maintenance_mode_switches_the_overlay_off_and_on(tmp_path):
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text("console=tty1 rootwait overlayroot=tmpfs:recurse=0\n")
    script = str(STAGE / "02-readonly-root/files/border-gate-maintenance")
    env = {**os.environ, "BORDER_GATE_CMDLINE": str(cmdline)}
    assert subprocess.run([script, "on"], env=env, capture_output=True).returncode == 0
    assert cmdline.read_text() == "console=tty1 rootwait\n"
    for _ in range(2):
        assert subprocess.run([script, "off"], env=env, capture_output=True).returncode == 0
    assert cmdline.read_text() == "console=tty1 rootwait overlayroot=tmpfs:recurse=0\n"


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
def test_the_first_boot_unit_verifies(tmp_path):
    unit = tmp_path / "border-gate-datafs.service"
    unit.write_text((STAGE / "02-readonly-root/files/border-gate-datafs.service").read_text()
                    .replace("/usr/local/sbin/border-gate-datafs", "/bin/true"))
    out = subprocess.run([ANALYZE, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.stderr == "" and out.returncode == 0, out.stderr
