"""A real PostgreSQL server for the BMIS ingest tests (simulator/postgres_server.py): one server per
test session, a fresh database per test; skips with the reason when PostgreSQL is not installed.

    from tests.pg_fixtures import postgres_server, postgres_url  # noqa: F401  (fixtures)
"""
from __future__ import annotations

import pytest

from simulator.postgres_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A new, empty database on the session's server."""
    return postgres_server.create_database()
