"""Debian's PostgreSQL on loopback, for the BMIS ingest's tests and benchmarks (as `bmis_broker`
does for mosquitto): a throw-away data directory, 127.0.0.1 and a free port. As root, initdb and the
server run as the `postgres` system user the Debian package creates (PostgreSQL refuses root).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from simulator.local_process import free_port


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries (or the user to run them as) are missing, or the server did not start."""


def _binaries() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise PostgresUnavailable("PostgreSQL binaries not found (apt-get install postgresql; scripts/setup.sh does)")
    return Path(versions[-1]).parent


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresUnavailable("running as root but there is no 'postgres' user to run the server as") from exc


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _server_user().pw_name, "--"] + command


class PostgresServer:
    def __init__(self, *, max_connections: int = 60):
        self.bin_dir = _binaries()
        # Not under a root-private tmp dir: the server runs as postgres and must reach its files.
        self.base = Path(tempfile.mkdtemp(prefix="bmis-pg-"))
        self.data_dir, self.port, self._max_connections = self.base / "data", free_port(), max_connections

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, command: list[str]) -> None:
        try:
            subprocess.run(_as_server_user(command), check=True, capture_output=True, timeout=120)
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"{Path(command[0]).name}: {exc.stderr.decode(errors='replace')[-400:]}") from exc

    def start(self) -> PostgresServer:
        sockets = self.base / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            user = _server_user()
            for path in (self.base, sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                   "--no-sync", "-E", "UTF8"])
        options = (f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 "
                   f"-c max_connections={self._max_connections}")
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l",
                   str(self.base / "server.log"), "-w", "-t", "60", "start"])
        return self

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL."""
        import psycopg
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
                                        "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)
