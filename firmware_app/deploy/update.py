"""`gatectl update apply FILE.deb`: install a release, watch it, and undo it if it is not healthy.

    1. check the package (name, version, sha256 when one is given) and take the update lock
    2. refuse when the installed version's package is not kept (there would be no way back)
    3. keep the new package, copy the SQLite files (state.py), install, restart
    4. watch the health window (health.py): READY, running, no restarts, for `stable_s`
    5. healthy: record it, prune old packages. Not healthy: stop, put back any file the new
       release migrated, reinstall the previous package, restart, watch again, and raise an alarm
       for the BMIS either way (update_rolled_back, or update_rollback_failed when even the
       previous release does not come back healthy).

The result is written to `<packages_dir>/last-update.json` (gatectl update status, the BMIS health).
"""
from __future__ import annotations

import enum
import fcntl
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from firmware_app.errors import GateError

from . import state
from .alarms import AlarmSpool
from .errors import InstallFailed, NoRollbackPackage, UpdateInProgress
from .health import HealthCheck, HealthVerdict, HealthWindow, failed_components, status_check, unit_check, watch
from .package import PackageInfo, PackageStore, Run, inspect_package
from .system import Installer, check_writable_root

log = logging.getLogger(__name__)
LAST_UPDATE = "last-update.json"


class UpdateOutcome(str, enum.Enum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"                  # that version is already installed
    ROLLED_BACK = "rolled_back"              # the new release failed; the previous one runs again
    ROLLBACK_FAILED = "rollback_failed"      # neither release is healthy: a technician is needed


@dataclass(frozen=True)
class UpdateSettings:
    packages_dir: Path
    data_dir: Path
    window: HealthWindow = field(default_factory=HealthWindow)
    keep: int = 3


@dataclass
class UpdateReport:
    outcome: UpdateOutcome
    from_version: str | None
    to_version: str
    detail: str = ""
    health: dict = field(default_factory=dict)
    rollback_health: dict = field(default_factory=dict)
    restored_files: list[str] = field(default_factory=list)
    alarm: dict | None = None
    finished_at: str = ""

    def to_dict(self) -> dict:
        return {"outcome": self.outcome.value, "from_version": self.from_version, "to_version": self.to_version,
                "detail": self.detail, "health": self.health, "rollback_health": self.rollback_health,
                "restored_files": self.restored_files, "alarm": self.alarm, "finished_at": self.finished_at}


@dataclass
class UpdateClocks:
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


StatusQuery = Callable[[], dict]      # the running app's status snapshot (firmware_app/status)


class Updater:
    def __init__(self, settings: UpdateSettings, installer: Installer, *, status: StatusQuery | None = None,
                 clocks: UpdateClocks | None = None, run: Run = subprocess.run,
                 root_check: Callable[[], None] = check_writable_root):
        self.settings, self._installer, self._status = settings, installer, status
        self._clocks = clocks or UpdateClocks()
        self._failed_before: set[str] | None = None
        self._root_check = root_check
        self._run = run
        self.store = PackageStore(settings.packages_dir, keep=settings.keep, run=run)
        self.alarms = AlarmSpool(settings.data_dir)

    def _inspect(self, path: Path, sha256: str | None = None) -> PackageInfo:
        return inspect_package(path, sha256, run=self._run)

    def installed_version(self) -> str | None:
        return self._installer.installed_version()

    def keep_installed(self, path: Path) -> PackageInfo:
        """Register the package of the installed version (installed by apt or the image build)."""
        info = self._inspect(path)
        installed = self._installer.installed_version()
        if info.version != installed:
            raise NoRollbackPackage(f"{path} is version {info.version}; installed: {installed or 'none'}")
        return self.store.keep(info)

    def apply(self, path: Path, sha256: str | None = None, *, allow_no_rollback: bool = False) -> UpdateReport:
        self._root_check()
        with self._lock():
            new = self._inspect(path, sha256)
            current = self._installer.installed_version()
            if current == new.version:
                return self._finish(UpdateReport(UpdateOutcome.UNCHANGED, current, new.version,
                                                 "this version is already installed"))
            previous = self._previous(current, allow_no_rollback)
            self._failed_before = self._failed_now()
            kept = self.store.keep(new)
            taken = state.snapshot(self.settings.data_dir, self.settings.packages_dir / "state-before-update")
            try:
                self._installer.install(kept.path)
                self._installer.restart()
            except InstallFailed as exc:
                return self._roll_back(current, new, previous, taken, f"install failed: {exc}", {})
            verdict = self._watch()
            if not verdict.healthy:
                return self._roll_back(current, new, previous, taken, verdict.detail, verdict.to_dict())
            self.store.prune(new.version, current)
            return self._finish(UpdateReport(UpdateOutcome.UPDATED, current, new.version, verdict.detail,
                                             verdict.to_dict()))

    def _previous(self, current: str | None, allow_no_rollback: bool) -> PackageInfo | None:
        previous = self.store.find(current) if current else None
        if previous is None and not allow_no_rollback:
            raise NoRollbackPackage(
                f"the package of the installed version {current} is not kept in {self.settings.packages_dir}: "
                f"an update could not be undone (register it: gatectl update keep FILE.deb)")
        return previous

    def _failed_now(self) -> set[str] | None:
        if self._status is None:
            return None
        try:
            return failed_components(self._status())
        except (GateError, OSError, ValueError):
            return None           # not answering before the update: nothing to compare with

    def _checks(self) -> Sequence[HealthCheck]:
        checks = [unit_check(self._installer.unit_state)]
        if self._status is not None:
            checks.append(status_check(self._status, self._failed_before))
        return checks

    def _watch(self) -> HealthVerdict:
        return watch(self._checks(), self.settings.window, monotonic=self._clocks.monotonic, sleep=self._clocks.sleep)

    def _roll_back(self, current: str | None, new: PackageInfo, previous: PackageInfo | None,
                   taken: state.StateSnapshot, why: str, health: dict) -> UpdateReport:
        report = UpdateReport(UpdateOutcome.ROLLBACK_FAILED, current, new.version, why, health)
        if previous is None:
            return self._alarm(report, "update_failed",
                               f"{new.version} not healthy ({why}); no package to roll back to")
        report.restored_files = self._put_back_state(taken, new.version)
        try:
            self._installer.install(previous.path)
            self._installer.restart()
            verdict = self._watch()
        except (InstallFailed, OSError) as exc:
            verdict = HealthVerdict(False, f"rollback failed: {exc}", 0.0)
        report.rollback_health = verdict.to_dict()
        return self._alarm_for(report, verdict, previous)

    def _put_back_state(self, taken: state.StateSnapshot, new_version: str) -> list[str]:
        """Files the new release migrated go back to their copies, only with the app stopped (a file
        replaced under a running app would be a corrupted outbox). Best effort: the previous package
        is reinstalled either way, and its own start says whether it can use what it finds."""
        try:
            self._installer.stop()
        except InstallFailed as exc:
            log.error("cannot stop the unit before the rollback (%s): SQLite files left as they are", exc)
            return []
        try:
            return state.restore_if_newer(self.settings.data_dir, taken, new_version)
        except OSError as exc:
            log.error("SQLite files not put back: %s", exc)
            return []

    def _alarm_for(self, report: UpdateReport, verdict: HealthVerdict, previous: PackageInfo) -> UpdateReport:
        kept = f"; files the new release migrated were put back, its copies kept as *.from-{report.to_version}: " \
               f"{', '.join(report.restored_files)}" if report.restored_files else ""
        if verdict.healthy:
            report.outcome = UpdateOutcome.ROLLED_BACK
            return self._alarm(report, "update_rolled_back",
                               f"{report.to_version} not healthy ({report.detail}); "
                               f"{previous.version} reinstalled{kept}")
        return self._alarm(report, "update_rollback_failed",
                           f"{report.to_version} not healthy ({report.detail}); {previous.version} reinstalled but "
                           f"not healthy either ({verdict.detail}){kept}")

    def _alarm(self, report: UpdateReport, kind: str, detail: str) -> UpdateReport:
        report.alarm = self.raise_alarm(kind, "warning" if kind == "update_rolled_back" else "critical", detail)
        return self._finish(report)

    def raise_alarm(self, kind: str, severity: str, detail: str) -> dict:
        return self.alarms.raise_alarm(kind, severity, detail, self._now()).to_dict()

    def _now(self) -> str:
        return self._clocks.wall().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _finish(self, report: UpdateReport) -> UpdateReport:
        report.finished_at = self._now()
        target = self.settings.packages_dir / LAST_UPDATE
        target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(report.to_dict(), indent=1))
        self._readable_by_the_app(partial)
        os.replace(partial, target)
        return report

    def _readable_by_the_app(self, path: Path) -> None:
        """gate-app (the data directory's group) reads the result for its health message and status."""
        if os.geteuid() != 0:
            return
        gid = self.settings.data_dir.stat().st_gid
        for item in (self.settings.packages_dir, path):
            os.chown(item, 0, gid)
        self.settings.packages_dir.chmod(0o750)
        path.chmod(0o640)

    def _lock(self):
        return _UpdateLock(self.settings.packages_dir / ".update.lock")


def last_update(packages_dir: Path) -> dict | None:
    try:
        return json.loads((Path(packages_dir) / LAST_UPDATE).read_text())
    except (OSError, ValueError):
        return None


class _UpdateLock:
    def __init__(self, path: Path):
        self.path, self._fd = path, -1

    def __enter__(self):
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise UpdateInProgress(f"another update holds {self.path}") from None
        return self

    def __exit__(self, *exc):
        os.close(self._fd)
        return False
