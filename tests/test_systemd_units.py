"""The shipped units are hardened (systemd-analyze security) and free of unit-file mistakes.

`systemd-analyze verify` exits 0 on unknown keys and only prints them, so stderr must be empty.
It also refuses an ExecStart whose binary is missing; the test points the unit's binaries at
stand-ins in a temporary directory (the same paths shape, so a typo in a key still shows)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[1] / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
# Installs packages as root (dpkg writes /opt, /etc, /lib; maintainer scripts add users), as
# apt-daily-upgrade.service does: it cannot be sandboxed to 2.0 and still do its job.
PRIVILEGED = {"border-gate-update.service"}
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
MAX_EXPOSURE = 2.0
EXEC_PATH = re.compile(r"(?<=[=\s-])(/(?:opt|usr)/[\w./-]+)")


def exposure(unit: Path) -> float:
    out = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", str(unit)],
                         capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout + out.stderr)
    assert found, out.stdout + out.stderr
    return float(found.group(1))


def with_stand_in_binaries(unit: Path, tmp_path: Path) -> Path:
    """A copy of the unit whose Exec* binaries exist (as /bin/true copies under tmp_path)."""
    lines = []
    for line in unit.read_text().splitlines():
        if line.startswith("Exec"):
            for path in EXEC_PATH.findall(line):
                stand_in = tmp_path / "root" / path.lstrip("/")
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy("/bin/true", stand_in)
                line = line.replace(path, str(stand_in))
        lines.append(line)
    copy = tmp_path / unit.name
    copy.write_text("\n".join(lines) + "\n")
    return copy


def test_every_expected_unit_is_shipped():
    assert {"gate-app.service", "kiosk-browser.service"} <= set(UNITS)


@needs_analyze
@pytest.mark.parametrize("name", [u for u in UNITS if u not in PRIVILEGED])
def test_unit_scores_two_or_better(name):
    assert exposure(SYSTEMD / name) <= MAX_EXPOSURE


@needs_analyze
def test_the_score_check_can_fail(tmp_path):
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    assert exposure(bare) > MAX_EXPOSURE


@needs_analyze
@pytest.mark.parametrize("name", UNITS + sorted(p.name for p in SYSTEMD.glob("*.path")))
def test_verify_prints_nothing(name, tmp_path):
    copy = with_stand_in_binaries(SYSTEMD / name, tmp_path)
    out = subprocess.run([ANALYZE, "verify", "--man=no", str(copy)],
                         capture_output=True, text=True, timeout=60)
    assert out.stderr == "" and out.returncode == 0, out.stderr


@needs_analyze
def test_verify_check_catches_an_unknown_key(tmp_path):
    unit = tmp_path / "typo.service"
    unit.write_text("[Service]\nExecStart=/bin/true\nProtectSystm=strict\n")
    out = subprocess.run([ANALYZE, "verify", "--man=no", str(unit)],
                         capture_output=True, text=True, timeout=60)
    assert "ProtectSystm" in out.stderr


def test_gate_app_keeps_the_mandated_settings():
    text = (SYSTEMD / "gate-app.service").read_text()
    for setting in ("User=gate", "ProtectSystem=strict", "PrivateTmp=true", "ProtectHome=true",
                    "ProtectKernelTunables=true", "ProtectKernelModules=true",
                    "ProtectKernelLogs=true", "ProtectClock=true", "CapabilityBoundingSet=\n",
                    "SystemCallFilter=@system-service", "RestrictAddressFamilies=",
                    "DevicePolicy=closed", "DeviceAllow=", "UMask=0077"):
        assert setting in text, setting
    after = re.search(r"^After=(.*)$", text, re.M).group(1).split()
    assert {"time-sync.target", "pcscd.service"} <= set(after)
    # onnxruntime needs writable executable memory.
    assert "MemoryDenyWriteExecute" not in text.replace("Not MemoryDenyWriteExecute", "")


def test_the_bench_runs_gate_app_with_the_units_environment():
    from simulator.gate_app_bench import DEVICE_ENVIRONMENT
    text = (SYSTEMD / "gate-app.service").read_text()
    unit = dict(line.split("=", 2)[1:] for line in text.splitlines() if line.startswith("Environment=MALLOC_"))
    assert unit == DEVICE_ENVIRONMENT and unit
