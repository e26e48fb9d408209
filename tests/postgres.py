"""A throwaway PostgreSQL server for the tests (fixture ``postgres_server``, one per session) from Debian's
``postgresql`` package: ``initdb`` into a temporary directory, ``pg_ctl start`` listening only on a unix
socket in that directory, ``pg_ctl stop`` at the end. ``postgres_url`` is a fresh database per test.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user the package creates
(or ``nobody``), owning the temporary directory. Without the binaries the tests skip, saying so, unless
``WIREWATCH_TEST_POSTGRES=required`` (CI), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def server_binaries() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    socket_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"


def _run_as() -> dict[str, Any]:
    """subprocess options that run the server as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    pytest.skip("running as root and neither a postgres nor a nobody user exists to run PostgreSQL")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = server_binaries()
    if bin_dir is None:
        reason = "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): apt-get install postgresql"
        if os.environ.get("WIREWATCH_TEST_POSTGRES") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    as_user = _run_as()
    # A short path: the socket's path must stay under the kernel's 107-byte limit.
    root = Path(tempfile.mkdtemp(prefix="wwpg-", dir="/tmp"))
    data = root / "data"
    if as_user:
        os.chown(root, as_user["user"], as_user["group"])
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    options = " ".join(
        [
            f"-k {root}",
            "-c listen_addresses=''",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=50",
        ]
    )
    run = {"env": env, "cwd": root, "check": True, "capture_output": True, **as_user}
    try:
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], **run
        )
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", root / "server.log", "-o", options, "-w", "start"], **run)
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}\n{log}")
    try:
        yield PostgresServer(root)
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **{**run, "check": False})
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server; dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
