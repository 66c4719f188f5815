"""`gatectl update apply`: a release that fails its health window is rolled back; one that passes
stays. Real dpkg installs into a throwaway root; systemctl is a fake whose service is as healthy as
the installed package says (tests/deploy_fixtures.py); the updater's decisions are the real ones."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid

import pytest

from firmware_app.bmis.contract import Identity
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.bmis.outbox.storage import SCHEMA as OUTBOX_SCHEMA
from firmware_app.cli import main
from firmware_app.deploy.alarms import AlarmSpool
from firmware_app.deploy.health import HealthReading, HealthWindow, unit_check, watch
from firmware_app.deploy.system import UnitState
from tests.deploy_fixtures import make_bench, status_server


@pytest.fixture
def bench(tmp_path, monkeypatch):
    bench = make_bench(tmp_path)
    monkeypatch.setenv("PATH", f"{bench.bin}:/usr/sbin:/usr/bin:/sbin:/bin")
    v1 = bench.deb("1.0")
    assert main_rc(["update", "keep", str(v1), "--config", str(bench.config())]) == 2   # not installed yet
    subprocess_ok(["dpkg", "-i", str(v1)])
    assert main_rc(["update", "keep", str(v1), "--config", str(bench.config())]) == 0
    server = status_server(bench)
    yield bench
    server.stop()


def subprocess_ok(argv):
    import subprocess
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def main_rc(argv) -> int:
    return main(argv)


def apply(bench, deb, capsys, *extra) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["update", "apply", str(deb), "--config", str(bench.config()), "--json", *extra])
    out, bench.last_err = capsys.readouterr()
    return rc, json.loads(out) if out.strip() else {}


def test_a_release_that_stays_healthy_is_kept(bench, capsys):
    os.chown(bench.data, -1, 4321)          # the app's group, which reads the result for its health
    rc, report = apply(bench, bench.deb("2.0", "ok"), capsys)
    result = bench.packages / "last-update.json"
    assert (result.stat().st_gid, result.stat().st_mode & 0o777, bench.packages.stat().st_gid) == (4321, 0o640, 4321)
    assert (rc, report["outcome"], report["from_version"], report["to_version"]) == (0, "updated", "1.0", "2.0")
    assert bench.installed() == "2.0"
    assert report["health"]["healthy"] and report["alarm"] is None
    assert AlarmSpool(bench.data).pending() == []
    assert sorted(p.name for p in bench.packages.glob("*.deb")) == ["border-gate_1.0_all.deb",
                                                                     "border-gate_2.0_all.deb"]
    assert [c for c in bench.systemctl_calls() if not c.startswith("show")] == \
        ["reset-failed gate-app.service", "restart gate-app.service"]


@pytest.mark.parametrize("health", ["crash", "flap"])
def test_a_release_that_fails_its_health_window_is_rolled_back_with_an_alarm(bench, capsys, health):
    rc, report = apply(bench, bench.deb("2.0", health), capsys)
    assert (rc, report["outcome"]) == (1, "rolled_back"), report
    assert bench.installed() == "1.0"
    assert not report["health"].get("healthy") and report["rollback_health"]["healthy"]
    expected = "unit activating/auto-restart" if health == "crash" else "unit restarted"
    assert expected in report["detail"]
    calls = [c.split()[0] for c in bench.systemctl_calls() if not c.startswith("show")]
    assert calls == ["reset-failed", "restart", "stop", "reset-failed", "restart"]
    [alarm] = AlarmSpool(bench.data).pending()
    assert (alarm.kind, alarm.severity) == ("update_rolled_back", "warning")
    assert "2.0 not healthy" in alarm.detail and "1.0 reinstalled" in alarm.detail
    status = capsys.readouterr() and main(["update", "status", "--config", str(bench.config()), "--json"])
    body = json.loads(capsys.readouterr().out)
    assert status == 0 and body["installed"] == "1.0" and body["last_update"]["outcome"] == "rolled_back"


def test_a_rollback_puts_back_the_files_the_new_release_migrated_and_keeps_its_copy(bench, capsys):
    outbox = Outbox(bench.data / "bmis-outbox.db", Identity("gate-u", "post-u"), clock=_now, id_source=uuid.uuid4)
    outbox.close()
    rc, report = apply(bench, bench.deb("2.0", "crash", migrates=True), capsys)
    assert (rc, report["outcome"], report["restored_files"]) == (1, "rolled_back", ["bmis-outbox.db"])
    assert _version(bench.data / "bmis-outbox.db") == OUTBOX_SCHEMA.version     # the old release can open it
    aside = bench.data / "bmis-outbox.db.from-2.0"
    assert _version(aside) == 99
    assert sqlite3.connect(aside).execute("SELECT COUNT(*) FROM written_by_new").fetchone()[0] == 1
    assert "bmis-outbox.db" in AlarmSpool(bench.data).pending()[0].detail
    Outbox(bench.data / "bmis-outbox.db", Identity("gate-u", "post-u"), clock=_now, id_source=uuid.uuid4).close()


def test_a_release_whose_app_reports_a_new_failure_is_rolled_back(bench, capsys):
    rc, report = apply(bench, bench.deb("2.0", "models-broken"), capsys)
    assert (rc, report["outcome"]) == (1, "rolled_back") and bench.installed() == "1.0"
    assert "failed since the update: face_models" in report["detail"]


def test_a_failure_that_was_there_before_the_update_does_not_block_it(bench, capsys):
    (bench.root / "camera-broken").write_text("")
    rc, report = apply(bench, bench.deb("2.0", "ok"), capsys)
    assert (rc, report["outcome"]) == (0, "updated") and "app idle" in report["detail"]


def test_a_unit_that_cannot_be_stopped_is_still_rolled_back_but_its_files_are_left_alone(bench, capsys):
    Outbox(bench.data / "bmis-outbox.db", Identity("gate-u", "post-u"), clock=_now, id_source=uuid.uuid4).close()
    (bench.root / "stop-fails").write_text("")
    rc, report = apply(bench, bench.deb("2.0", "crash", migrates=True), capsys)
    assert (rc, report["outcome"], report["restored_files"]) == (1, "rolled_back", [])
    assert bench.installed() == "1.0" and _version(bench.data / "bmis-outbox.db") == 99   # not swapped under the app


def test_when_the_previous_release_fails_too_a_critical_alarm_is_raised(bench, capsys):
    (bench.root / "host-broken").write_text("")
    rc, report = apply(bench, bench.deb("2.0", "ok"), capsys)
    assert (rc, report["outcome"]) == (1, "rollback_failed")
    assert bench.installed() == "1.0"
    [alarm] = AlarmSpool(bench.data).pending()
    assert (alarm.kind, alarm.severity) == ("update_rollback_failed", "critical")


def test_no_update_without_a_kept_package_to_roll_back_to(bench, capsys):
    for kept in bench.packages.glob("*.deb"):
        kept.unlink()
    rc, report = apply(bench, bench.deb("2.0", "ok"), capsys)
    assert rc == 2 and report == {}
    assert "gatectl update keep" in bench.last_err
    assert bench.installed() == "1.0" and bench.systemctl_calls() == []


def test_a_package_is_refused_when_its_hash_or_name_is_wrong(bench, capsys):
    good = bench.deb("2.0", "ok")
    rc, _ = apply(bench, good, capsys, "--sha256", "0" * 64)
    assert rc == 2 and "is not the expected" in bench.last_err
    rc, _ = apply(bench, bench.deb("2.0", "ok", name="other-thing"), capsys)
    assert rc == 2 and "not border-gate" in bench.last_err
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    rc, report = apply(bench, good, capsys, "--sha256", digest)
    assert (rc, report["outcome"]) == (0, "updated")
    rc, report = apply(bench, good, capsys)
    assert (rc, report["outcome"]) == (0, "unchanged")


# -- the decision on its own ---------------------------------------------------------------------

class Ticks:
    def __init__(self):
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def readings(*states: UnitState):
    it = iter(states)
    last = [None]

    def state():
        last[0] = next(it, last[0])
        return last[0]
    return state


def test_health_needs_an_unbroken_stable_run_inside_the_window():
    ticks = Ticks()
    window = HealthWindow(window_s=10, stable_s=3, poll_s=1)
    up, down = UnitState("active", "running", 0), UnitState("activating", "auto-restart", 1)
    late = unit_check(readings(*[down] * 8, up))   # up only at t=8: 3 s of stability would end at 11
    verdict = watch([late], window, monotonic=ticks.monotonic, sleep=ticks.sleep)
    assert not verdict.healthy and "not yet stable" in verdict.detail
    ticks = Ticks()
    early = unit_check(readings(down, down, up))
    verdict = watch([early], window, monotonic=ticks.monotonic, sleep=ticks.sleep)
    assert verdict.healthy and verdict.waited_s == 5


def test_a_check_that_raises_counts_as_unhealthy():
    def broken() -> HealthReading:
        raise OSError("socket gone")
    ticks = Ticks()
    verdict = watch([broken], HealthWindow(2, 1, 1), monotonic=ticks.monotonic, sleep=ticks.sleep)
    assert not verdict.healthy and "socket gone" in verdict.detail


def _now():
    import datetime as dt
    return dt.datetime(2026, 12, 6, tzinfo=dt.UTC)


def _version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_an_update_on_the_read_only_image_is_refused_with_a_typed_error(tmp_path):
    from firmware_app.deploy.errors import ReadOnlyRoot
    from firmware_app.deploy.system import check_writable_root
    cmdline, mounts = tmp_path / "cmdline", tmp_path / "mounts"
    cmdline.write_text("console=tty1 root=PARTUUID=1-02 rootwait overlayroot=tmpfs:recurse=0\n")
    mounts.write_text("/dev/mmcblk0p2 /media/root-ro ext4 ro 0 0\noverlayroot / overlay rw 0 0\n")
    with pytest.raises(ReadOnlyRoot, match="border-gate-maintenance on"):
        check_writable_root(cmdline, mounts)
    cmdline.write_text("console=tty1 root=PARTUUID=1-02 rootwait\n")
    check_writable_root(cmdline, mounts)          # maintenance mode: the overlay is off


def test_no_update_without_room_for_the_copy_of_the_sqlite_files(tmp_path):
    from firmware_app.deploy import state
    from firmware_app.deploy.errors import DeployError
    data = tmp_path / "data"
    data.mkdir()
    Outbox(data / "bmis-outbox.db", Identity("gate-u", "post-u"), clock=_now, id_source=uuid.uuid4).close()
    (data / "notes.db").write_text("not sqlite")              # only SQLite files are copied
    with pytest.raises(DeployError, match="not enough free space"):
        state.snapshot(data, tmp_path / "copy", free_bytes=lambda p: 10 << 20)
    taken = state.snapshot(data, tmp_path / "copy", free_bytes=lambda p: 1 << 40)
    assert taken.versions == {"bmis-outbox.db": OUTBOX_SCHEMA.version}
