"""The system side of an update: dpkg and systemctl, run as commands so a test can point them at
a throwaway root (`dpkg --root=DIR`) or put its own `systemctl` first on PATH.

The updater imports everything it needs before it installs anything: dpkg replaces the virtualenv
this process runs from, and a module imported after that would come from the new release.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import InstallFailed, ReadOnlyRoot
from .package import PACKAGE_NAME

Run = Callable[..., subprocess.CompletedProcess]
MAX_OUTPUT = 600


@dataclass(frozen=True)
class UnitState:
    active: str          # ActiveState: active, activating, failed, inactive...
    sub: str             # SubState: running, auto-restart, dead...
    restarts: int        # NRestarts: automatic restarts since the unit was last started by hand

    @property
    def running(self) -> bool:
        return self.active == "active" and self.sub == "running"


class Installer(Protocol):
    def installed_version(self) -> str | None: ...

    def install(self, path: Path) -> None: ...

    def stop(self) -> None: ...

    def restart(self) -> None: ...

    def unit_state(self) -> UnitState: ...


@dataclass(frozen=True)
class SystemCommands:
    dpkg: tuple[str, ...] = ("dpkg",)              # tests: ("dpkg", "--root=/tmp/root")
    dpkg_query: tuple[str, ...] = ("dpkg-query",)
    systemctl: tuple[str, ...] = ("systemctl",)
    unit: str = "gate-app.service"
    timeout_s: float = 900.0


class SystemInstaller:
    """Installer over the real tools. Non-interactive: a locally changed conffile (gate.toml) is kept."""

    def __init__(self, commands: SystemCommands = SystemCommands(), run: Run = subprocess.run):
        self.commands, self._run = commands, run

    def _call(self, argv: list[str], what: str) -> str:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            done = self._run(argv, capture_output=True, text=True, timeout=self.commands.timeout_s, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallFailed(f"{what}: {exc}") from None
        if done.returncode != 0:
            output = (done.stderr or done.stdout or "").strip()[-MAX_OUTPUT:]
            raise InstallFailed(f"{what} exited {done.returncode}: {output}")
        return done.stdout

    def installed_version(self) -> str | None:
        argv = [*self.commands.dpkg_query, "-W", "-f", "${db:Status-Abbrev} ${Version}", PACKAGE_NAME]
        try:
            out = self._call(argv, "dpkg-query")
        except InstallFailed:
            return None
        status, _, version = out.strip().partition(" ")
        return version.strip() if status.startswith("ii") and version.strip() else None

    def install(self, path: Path) -> None:
        self._call([*self.commands.dpkg, "--force-confold", "--force-confdef", "-i", str(path)],
                   f"dpkg -i {Path(path).name}")

    def stop(self) -> None:
        self._call([*self.commands.systemctl, "stop", self.commands.unit], "systemctl stop")

    def restart(self) -> None:
        # reset-failed first: a unit that hit its start limit under the old release must start again
        self._call([*self.commands.systemctl, "reset-failed", self.commands.unit], "systemctl reset-failed")
        self._call([*self.commands.systemctl, "restart", self.commands.unit], "systemctl restart")

    def unit_state(self) -> UnitState:
        out = self._call([*self.commands.systemctl, "show", "-p", "ActiveState", "-p", "SubState",
                          "-p", "NRestarts", self.commands.unit], "systemctl show")
        fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        restarts = fields.get("NRestarts", "0")
        return UnitState(fields.get("ActiveState", "unknown"), fields.get("SubState", "unknown"),
                         int(restarts) if restarts.isdigit() else 0)


def check_writable_root(cmdline: Path = Path("/proc/cmdline"), mounts: Path = Path("/proc/self/mounts")) -> None:
    """Raise ReadOnlyRoot on an overlayroot system (the image's read-only root with a RAM overlay)."""
    try:
        options = cmdline.read_text().split()
        mounted = [line.split()[1] for line in mounts.read_text().splitlines() if len(line.split()) > 1]
    except OSError:
        return
    overlay = any(o.startswith("overlayroot=") and o != "overlayroot=disabled" for o in options)
    if overlay and "/media/root-ro" in mounted:
        raise ReadOnlyRoot("the root file system is a RAM overlay (overlayroot): an update installed now "
                           "would be gone after the next boot; run `border-gate-maintenance on`, reboot, "
                           "update, then `border-gate-maintenance off`")
