"""The server archive: PostgreSQL through psycopg 3 and its connection pool. Full text is a generated
``tsvector`` column (title weighted above text) with a GIN index, queried with ``websearch_to_tsquery``
on the canonical form of the parsed query (:func:`.query.render_websearch`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from .base import (
    HIT_END,
    HIT_START,
    SearchPage,
    SearchRequest,
    StoreError,
)
from .migrations import migrations
from .query import render_websearch
from .sql import SqlStore

#: Text search configuration of the generated column and of every query (the same, or nothing matches).
TS_CONFIG = "english"
#: One key for the advisory lock that serialises migrations between workers starting at once.
MIGRATION_LOCK = 7_311_998_001
TITLE_HEADLINE = f"HighlightAll=true, StartSel={HIT_START}, StopSel={HIT_END}"
TEXT_HEADLINE = (
    f'StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)


class PostgresStore(SqlStore):
    kind = "postgres"
    json_placeholder = "%s::jsonb"

    def __init__(self, conninfo: str, *, max_size: int = 4) -> None:
        self.conninfo = conninfo
        self._pool = ConnectionPool(conninfo, min_size=1, max_size=max_size, open=False, timeout=30.0)
        self._opened = False

    def _open(self) -> ConnectionPool:
        if not self._opened:
            try:
                self._pool.open(wait=True, timeout=30.0)
            except psycopg.Error as exc:
                raise StoreError(f"cannot reach the archive's PostgreSQL server: {exc}") from None
            except Exception as exc:  # psycopg_pool.PoolTimeout: the server never answered
                raise StoreError(f"cannot reach the archive's PostgreSQL server: {exc}") from None
            self._opened = True
            self.migrate()
        return self._pool

    def sql(self, text: str) -> str:
        return super().sql(text.replace("%", "%%").replace("?", "%s"))

    def _json(self, doc: bytes) -> Any:
        return doc.decode("utf-8")

    def migrate(self) -> int:
        pool = self._open()
        with pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            for version, _name, script in migrations("postgres"):
                if version > current:
                    conn.execute(script.encode("utf-8"))  # several statements: simple query protocol
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
                    current = version
        return int(current)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._open().connection() as conn:
            return conn.execute(self.sql(sql), tuple(params)).fetchall()

    def _write(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        with self._open().connection() as conn, conn.cursor() as cur:
            for sql, rows in statements:
                if rows:
                    cur.executemany(self.sql(sql), rows)

    def search(self, request: SearchRequest) -> SearchPage:
        if request.query is None:
            return self.latest(request)
        where, params = self.filters(request)
        text = render_websearch(request.query)
        # The tsquery is written out where it is used, not taken from a CTE: with its value in sight the
        # planner estimates how many rows match (a common word: walk the newest rows; a rare one: the GIN
        # index), which a CTE hides from it.
        tsquery = f"websearch_to_tsquery('{TS_CONFIG}', ?)"
        matches = f"FROM articles a WHERE a.tsv @@ {tsquery} {''.join(' AND ' + w for w in where)}"
        if request.ranked:
            # The rank window: the newest-archived matches (seq order), then ranked; headlines for the
            # page only (ts_headline re-parses the text).
            page = (
                f"cand AS (SELECT a.id, a.tsv, a.published {matches}"
                f" ORDER BY a.seq DESC LIMIT {int(self.rank_window)}),"
                f" page AS (SELECT cand.id, ts_rank_cd(cand.tsv, {tsquery}) AS score FROM cand"
                " ORDER BY score DESC, cand.published DESC, cand.id LIMIT ? OFFSET ?)"
            )
            order = "page.score DESC, a.published DESC, a.id"
            args = [text, *params, text, request.limit, request.offset]
        else:
            page = (
                f"page AS (SELECT a.id, NULL::real AS score {matches} ORDER BY a.published DESC, a.id LIMIT ? OFFSET ?)"
            )
            order = "a.published DESC, a.id"
            args = [text, *params, request.limit, request.offset]
        sql = (
            f"WITH {page} SELECT a.id, a.url, a.feed, a.title, a.published_at, a.published, a.doc, page.score,"
            f" ts_headline('{TS_CONFIG}', a.title, {tsquery}, ?), ts_headline('{TS_CONFIG}', a.text, {tsquery}, ?)"
            f" FROM page JOIN articles a ON a.id = page.id ORDER BY {order}"
        )
        args += [text, TITLE_HEADLINE, text, TEXT_HEADLINE]
        return self._ranked_page(request, self._rows(sql, args))

    def optimize(self) -> None:
        with self._open().connection() as conn:
            conn.execute("ANALYZE")

    def close(self) -> None:
        if self._opened:
            self._pool.close()
            self._opened = False
