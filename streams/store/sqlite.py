"""The embedded archive: one SQLite file (Python's own ``sqlite3``) with an FTS5 index of titles and texts.

Several workers may share the file (WAL journal, writers wait for each other); each thread has its own
connection.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .base import (
    HIT_END,
    HIT_START,
    SearchPage,
    SearchRequest,
    StoreError,
)
from .migrations import migrations
from .query import render_fts5
from .sql import SqlStore

log = logging.getLogger(__name__)

#: How long closing waits for the reads and writes under way (a batch write takes milliseconds; SQLite's
#: busy wait is 30 s).
CLOSE_WAIT_SECONDS = 35.0

#: bm25 weights of the FTS columns (title, text): a hit in the title counts more.
BM25_WEIGHTS = (5.0, 1.0)


def check_fts5(conn: sqlite3.Connection) -> None:
    """Raise StoreError, saying what to do, when this Python's SQLite lacks FTS5."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError as exc:
        raise StoreError(
            f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 extension ({exc}): the archive needs "
            "it. Use a Python whose sqlite3 module is built with FTS5 (python.org and Debian builds are), "
            "or set WIREWATCH_STORE=postgresql://..."
        ) from None


class SqliteStore(SqlStore):
    kind = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._migrated = False
        #: Reads and writes under way, and whether a close is waiting for them: a connection closed while
        #: another thread runs a statement on it crashes the process (the archive's writer thread did, on a
        #: worker's shutdown).
        self._in_use = 0
        self._closing = False
        self._idle = threading.Condition()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"cannot open the archive {self.path}: {exc}") from None
            check_fts5(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
            if not self._migrated:
                self.migrate()
        return conn

    def migrate(self) -> int:
        conn = getattr(self._local, "conn", None) or self._conn()
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for version, name, script in migrations("sqlite"):
            if version <= self._version(conn):
                continue
            try:
                conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if self._version(conn) < version:  # not another process that got there first
                    raise StoreError(f"migration {name} of {self.path} failed: {exc}") from None
        self._migrated = True
        return self._version(conn)

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])

    @contextlib.contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, counted as in use until the block ends (see :meth:`close`)."""
        with self._idle:
            if self._closing:
                raise StoreError(f"the archive {self.path} is closing")
            self._in_use += 1
        try:
            yield self._conn()
        finally:
            with self._idle:
                self._in_use -= 1
                self._idle.notify_all()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._using() as conn:
            return conn.execute(self.sql(sql), tuple(params)).fetchall()

    def _write(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        with self._using() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    if rows:
                        conn.executemany(self.sql(sql), rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def search(self, request: SearchRequest) -> SearchPage:
        if request.query is None:
            return self.latest(request)
        where, params = self.filters(request)
        match = [render_fts5(request.query), *params]
        joined = (
            "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            f" WHERE articles_fts MATCH ? {''.join(' AND ' + w for w in where)}"
        )
        if request.ranked:
            # The rank window: FTS5 walks the matches newest-archived first (rowid order, no ranking) to
            # the RANK_WINDOW-th, and the ranked query below starts there (a rowid range FTS5 seeks to).
            cutoff = self._rows(
                f"SELECT articles_fts.rowid {joined} ORDER BY articles_fts.rowid DESC LIMIT 1 OFFSET ?",
                [*match, self.rank_window - 1],
            )
            if cutoff:
                joined += " AND articles_fts.rowid >= ?"
                match.append(cutoff[0][0])
        order = "score DESC, a.published DESC, a.id" if request.ranked else "a.published DESC, a.id"
        sql = (
            "SELECT a.id, a.url, a.feed, a.title, a.published_at, a.published, a.doc,"
            f" -bm25(articles_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]}) AS score,"
            " highlight(articles_fts, 0, ?, ?), snippet(articles_fts, 1, ?, ?, '…', 32)"
            f" {joined} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        markers = [HIT_START, HIT_END, HIT_START, HIT_END]
        return self._ranked_page(request, self._rows(sql, [*markers, *match, request.limit, request.offset]))

    def optimize(self) -> None:
        self._write([("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')", [()])])
        with self._using() as conn:
            conn.execute("PRAGMA optimize")

    def close(self) -> None:
        """Close every thread's connection once the reads and writes under way have ended (new ones are
        refused meanwhile); should one outlast :data:`CLOSE_WAIT_SECONDS`, the connections are left to the
        process's exit rather than closed under it. The store opens again on its next use."""
        with self._idle:
            self._closing = True
            idle = self._idle.wait_for(lambda: self._in_use == 0, timeout=CLOSE_WAIT_SECONDS)
            try:
                if not idle:
                    log.warning("archive %s: a read or write still runs; its connections are not closed", self.path)
                    return
                with self._lock:
                    connections, self._connections = self._connections, []
                for conn in connections:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                self._local = threading.local()
            finally:
                self._closing = False
