"""A real PostgreSQL server for the BMIS ingest tests: Debian's `postgresql` binaries, a data
directory under the session's tmp dir, 127.0.0.1 and a free port; one server per test session, a
fresh database per test. As root, initdb and the server run as the `postgres` system user the
Debian package creates (PostgreSQL refuses to run as root). Skips with a reason when the binaries
or that user are missing.

    from tests.pg_fixtures import postgres_server, postgres_url  # noqa: F401  (fixtures)
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.local_process import free_port


@dataclass(frozen=True)
class PostgresServer:
    port: int
    data_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--"] + command


def _start(bin_dir: Path, base: Path) -> PostgresServer:
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir(parents=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    run = dict(check=True, capture_output=True, timeout=120)
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                    "--no-sync", "-E", "UTF8"]), **run)
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=60"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                    str(base / "server.log"), "-w", "-t", "60", "start"]), **run)
    return PostgresServer(port, data)


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql; scripts/setup.sh does)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root but there is no 'postgres' user to run the server as")
    # Not under pytest's tmp dir: its parents are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="bmis-pg-"))
    try:
        server = _start(bin_dir, base)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-400:]}")
    yield server
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "fast", "-w",
                                    "stop"]), capture_output=True, timeout=60)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A new, empty database on the session's server."""
    import psycopg
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.url(name)
