"""A throwaway root for update tests: real dpkg (`--root`) behind a `dpkg` on PATH, a fake
`systemctl` whose service is healthy or not as the installed package says, and small border-gate
packages built with dpkg-deb. The updater under test runs unchanged against them."""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FAKE_SYSTEMCTL = r"""#!/bin/sh
# The "gate-app" of the update tests. It is healthy when the installed package's HEALTH file says
# ok; "crash" never gets to READY (auto-restart), "flap" reaches READY and is restarted before
# every reading; "models-broken" runs, but its status socket reports face_models failed.
# A package with MIGRATES moves the outbox schema forward when it starts, as a new
# release would. $ROOT/host-broken makes every release unhealthy; $ROOT/stop-fails fails `stop`.
ROOT=@ROOT@
DATA=@DATA@
echo "$*" >> "$ROOT/systemctl.log"
APP="$ROOT/opt/border-gate"
bump() { n=$(cat "$ROOT/restarts" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$ROOT/restarts"; echo $n; }
case "$1" in
  stop) [ -f "$ROOT/stop-fails" ] && { echo "Job for gate-app.service failed" >&2; exit 1; }
        touch "$ROOT/stopped" ;;
  reset-failed) ;;
  restart)
    rm -f "$ROOT/stopped" "$ROOT/restarts"
    if [ -f "$APP/MIGRATES" ]; then
      @PYTHON@ -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);
c.execute('CREATE TABLE IF NOT EXISTS written_by_new (x)'); c.execute('INSERT INTO written_by_new VALUES (1)');
c.execute('PRAGMA user_version = 99'); c.commit()" "$DATA/bmis-outbox.db"
    fi ;;
  show)
    health=$(cat "$APP/HEALTH" 2>/dev/null || echo missing)
    [ -f "$ROOT/host-broken" ] && health=crash
    if [ -f "$ROOT/stopped" ]; then printf 'ActiveState=inactive\nSubState=dead\nNRestarts=0\n'
    elif [ "$health" = ok ] || [ "$health" = models-broken ]; then
      printf 'ActiveState=active\nSubState=running\nNRestarts=0\n'
    elif [ "$health" = flap ]; then printf 'ActiveState=active\nSubState=running\nNRestarts=%s\n' "$(bump)"
    else printf 'ActiveState=activating\nSubState=auto-restart\nNRestarts=%s\n' "$(bump)"; fi ;;
  *) echo "fake systemctl: $1 not faked" >&2; exit 1 ;;
esac
"""


@dataclass
class DeployBench:
    root: Path
    data: Path
    packages: Path
    bin: Path
    debs: Path
    last_err: str = ""

    def deb(self, version: str, health: str = "ok", *, migrates: bool = False, name: str = "border-gate") -> Path:
        tree = self.debs / f"{name}-{version}-{health}"
        shutil.rmtree(tree, ignore_errors=True)
        (tree / "DEBIAN").mkdir(parents=True)
        (tree / "opt" / "border-gate").mkdir(parents=True)
        (tree / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@localhost>\n"
            f"Description: update test package\n")
        (tree / "opt" / "border-gate" / "HEALTH").write_text(health + "\n")
        if migrates:
            (tree / "opt" / "border-gate" / "MIGRATES").write_text("")
        out = self.debs / f"{name}_{version}_{health}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(out)],
                       check=True, capture_output=True)
        return out

    def installed(self) -> str:
        return subprocess.run(["dpkg-query", f"--root={self.root}", "-W", "-f", "${Version}", "border-gate"],
                              capture_output=True, text=True).stdout

    def systemctl_calls(self) -> list[str]:
        log = self.root / "systemctl.log"
        return log.read_text().splitlines() if log.exists() else []

    def config(self, window_s: float = 1.0, stable_s: float = 0.3) -> Path:
        path = self.root.parent / "gate.toml"
        path.write_text(f'[device]\nid = "gate-u"\npost_id = "post-u"\ndata_dir = "{self.data}"\n'
                        f'[reader]\nurl = "sim://"\n'
                        f'[update]\npackages_dir = "{self.packages}"\nhealth_window_s = {window_s}\n'
                        f'stable_s = {stable_s}\npoll_s = 0.05\n')
        return path


def app_status(bench: DeployBench) -> dict:
    """What the installed fake release says on its status socket (camera-broken: a fault of the
    hardware, there before and after any update)."""
    health = (bench.root / "opt/border-gate/HEALTH").read_text().strip()
    devices = {"lane": {"status": "ok"}}
    if health == "models-broken":
        devices["face_models"] = {"status": "failed", "detail": "face_models"}
    if (bench.root / "camera-broken").exists():
        devices["camera"] = {"status": "failed", "detail": "camera"}
    return {"device_id": "gate-u", "state": "idle", "devices": devices}


def status_server(bench: DeployBench):
    from firmware_app.status.server import StatusServer
    server = StatusServer(bench.data / "status.sock", lambda: app_status(bench))
    server.start()
    return server


def make_bench(tmp: Path) -> DeployBench:
    bench = DeployBench(tmp / "root", tmp / "data", tmp / "packages", tmp / "bin", tmp / "debs")
    for d in (bench.root / "var/lib/dpkg/updates", bench.root / "var/lib/dpkg/info", bench.data, bench.bin,
              bench.debs):
        d.mkdir(parents=True)
    (bench.root / "var/lib/dpkg/status").write_text("")
    for tool in ("dpkg", "dpkg-query"):
        wrapper = bench.bin / tool
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/{tool} --root="{bench.root}" "$@"\n')
        wrapper.chmod(0o755)
    systemctl = bench.bin / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL.replace("@ROOT@", str(bench.root)).replace("@DATA@", str(bench.data))
                         .replace("@PYTHON@", sys.executable))
    systemctl.chmod(0o755)
    return bench
