"""A throwaway PostgreSQL server for the tests (fixture ``postgres_server``, one per session; see
``tools/postgres.py``) and ``postgres_url``, a fresh database per test. Without Debian's ``postgresql``
binaries the tests skip, saying so, unless ``WIREWATCH_TEST_POSTGRES=required`` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tools.postgres import PostgresUnavailable, ThrowawayPostgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    try:
        server = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        if os.environ.get("WIREWATCH_TEST_POSTGRES") == "required":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayPostgres) -> Iterator[str]:
    """A fresh, empty database on the session's server; dropped after the test."""
    import psycopg  # only the PostgreSQL tests need the driver

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
