"""A throwaway PostgreSQL server from Debian's ``postgresql`` package, no Docker: ``initdb`` into a
temporary directory, ``pg_ctl start`` listening only on a unix socket in that directory, stopped and
deleted on exit. Used by the tests (``tests/postgres.py``) and ``bench/search.py``. Python stdlib only::

    from tools.postgres import ThrowawayPostgres

    with ThrowawayPostgres() as server:
        use(server.url("postgres"))     # postgresql://postgres@/postgres?host=/tmp/wwpg-...

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user the package creates
(or ``nobody``), which then owns the temporary directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SERVER_OPTIONS = (
    "-c listen_addresses=''",
    "-c fsync=off",  # throwaway data: durability costs time and buys nothing here
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=50",
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or no user to run them as."""


def server_binaries() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def run_as() -> dict[str, Any]:
    """subprocess options that run the server as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise PostgresUnavailable("running as root and neither a postgres nor a nobody user exists to run PostgreSQL")


class ThrowawayPostgres:
    def __init__(self, extra_options: tuple[str, ...] = ()) -> None:
        bin_dir = server_binaries()
        if bin_dir is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): apt-get install postgresql"
            )
        self.bin_dir = bin_dir
        self.as_user = run_as()
        self.extra_options = extra_options
        self.root: Path | None = None

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None, "not started"
        return self.root

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def _run(self, *args: Any, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return subprocess.run(args, env=env, cwd=self.root, check=check, capture_output=True, **self.as_user)

    def start(self) -> ThrowawayPostgres:
        # A short path: a unix socket's path must stay under the kernel's 107-byte limit.
        self.root = Path(tempfile.mkdtemp(prefix="wwpg-", dir="/tmp"))
        if self.as_user:
            os.chown(self.root, self.as_user["user"], self.as_user["group"])
        data, log = self.root / "data", self.root / "server.log"
        options = " ".join([f"-k {self.root}", *SERVER_OPTIONS, *self.extra_options])
        try:
            self._run(self.bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            self._run(self.bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start")
        except subprocess.CalledProcessError as exc:
            text = log.read_text(errors="replace") if log.exists() else ""
            self.stop()
            raise PostgresUnavailable(
                f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}\n{text}"
            ) from None
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            self._run(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
