"""What both SQL stores share: the tables' upserts, the search filters, the newest-first listing and the
incident views, written once with ``?`` placeholders (``{j}`` for a JSON value)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from .base import (
    RANK_WINDOW,
    IncidentFilter,
    SearchPage,
    SearchRequest,
    Store,
    alert_row,
    article_row,
    incident_row,
    incident_view,
    next_cursor,
    search_result,
)


class SqlStore(Store):
    """The tables, upserts and filters both stores have in common. SQL is written with ``?`` placeholders
    (``{j}`` for a JSON value); a store whose driver differs rewrites them in :meth:`sql`."""

    json_placeholder = "?"
    rank_window = RANK_WINDOW

    # -- hooks
    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _write(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run each (sql, rows of params) with executemany, all in one transaction."""

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchPage: ...

    def sql(self, text: str) -> str:
        return text.replace("{j}", self.json_placeholder)

    def _json(self, doc: bytes) -> Any:
        return doc

    # -- writes
    def upsert_articles(self, records: Iterable[Mapping[str, Any]]) -> int:
        rows = [article_row(r) for r in records]
        if not rows:
            return 0
        self._write(
            [
                (
                    "INSERT INTO articles (id, url, feed, title, text, published, published_at, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, {j}) ON CONFLICT (id) DO UPDATE SET url = excluded.url,"
                    " feed = excluded.feed, title = excluded.title, text = excluded.text,"
                    " published = excluded.published, published_at = excluded.published_at, doc = excluded.doc",
                    [
                        (r.id, r.url, r.feed, r.title, r.text, r.published, r.published_at, self._json(r.doc))
                        for r in rows
                    ],
                ),
                ("DELETE FROM article_tags WHERE article_id = ?", [(r.id,) for r in rows]),
                (
                    "INSERT INTO article_tags (tag, published, article_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [(t, r.published, r.id) for r in rows for t in r.tags],
                ),
            ]
        )
        return len(rows)

    def upsert_incidents(self, records: Iterable[Mapping[str, Any]]) -> int:
        rows = [incident_row(r) for r in records]
        self._write(
            [
                (
                    "INSERT INTO incidents (id, actor_key, kind, modality, first_seen, last_seen, alert_count, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, {j}) ON CONFLICT (id) DO UPDATE SET actor_key = excluded.actor_key,"
                    " kind = excluded.kind, modality = excluded.modality, first_seen = excluded.first_seen,"
                    " last_seen = excluded.last_seen, alert_count = excluded.alert_count, doc = excluded.doc"
                    " WHERE excluded.alert_count >= incidents.alert_count",
                    [
                        (
                            r.id,
                            r.actor_key,
                            r.kind,
                            r.modality,
                            r.first_seen,
                            r.last_seen,
                            r.alert_count,
                            self._json(r.doc),
                        )
                        for r in rows
                    ],
                )
            ]
        )
        return len(rows)

    def upsert_alerts(self, records: Iterable[Mapping[str, Any]]) -> int:
        rows = [alert_row(r) for r in records]
        self._write(
            [
                (
                    "INSERT INTO alerts (id, incident_id, article_id, detected, doc) VALUES (?, ?, ?, ?, {j})"
                    " ON CONFLICT (id) DO NOTHING",
                    [(r.id, r.incident_id, r.article_id, r.detected, self._json(r.doc)) for r in rows],
                )
            ]
        )
        return len(rows)

    def prune_articles(self, older_than: float) -> int:
        (count,) = self._rows("SELECT count(*) FROM articles WHERE published < ?", (older_than,))[0]
        self._write(
            [
                ("DELETE FROM article_tags WHERE published < ?", [(older_than,)]),
                ("DELETE FROM articles WHERE published < ?", [(older_than,)]),
            ]
        )
        return int(count)

    # -- reads
    def counts(self) -> dict[str, int]:
        row = self._rows(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM alerts), (SELECT count(*) FROM incidents)"
        )[0]
        return {"articles": int(row[0]), "alerts": int(row[1]), "incidents": int(row[2])}

    def filters(self, request: SearchRequest, alias: str = "a") -> tuple[list[str], list[Any]]:
        """WHERE clauses and parameters of a search's filters (not its text query)."""
        where: list[str] = []
        params: list[Any] = []
        if request.feed:
            where.append(f"{alias}.feed = ?")
            params.append(request.feed)
        for op, value in ((">=", request.since), ("<", request.until)):
            if value is not None:
                where.append(f"{alias}.published {op} ?")
                params.append(value)
        for value in request.tags:
            # The tag index holds the published time: a tag plus a time range is one index range.
            clause = "SELECT t.article_id FROM article_tags t WHERE t.tag = ?"
            params.append(value)
            for op, bound in ((">=", request.since), ("<", request.until)):
                if bound is not None:
                    clause += f" AND t.published {op} ?"
                    params.append(bound)
            where.append(f"{alias}.id IN ({clause})")
        return where, params

    def latest(self, request: SearchRequest) -> SearchPage:
        """A search without a text query: the filtered articles, newest first."""
        where, params = self.filters(request)
        sql = (
            "SELECT a.id, a.url, a.feed, a.title, a.published_at, a.published, a.doc, substr(a.text, 1, 280)"
            f" FROM articles a {'WHERE ' + ' AND '.join(where) if where else ''}"
            " ORDER BY a.published DESC, a.id LIMIT ? OFFSET ?"
        )
        rows = self._rows(sql, [*params, request.limit, request.offset])
        results = [search_result(*row[:7], None, None, row[7]) for row in rows]
        return SearchPage(results, next_cursor(request, len(results)), "time")

    def _ranked_page(self, request: SearchRequest, rows: list[tuple[Any, ...]]) -> SearchPage:
        """A text search's page from the store's result rows (``search_result``'s fields, in its order)."""
        results = [search_result(*row) for row in rows]
        return SearchPage(
            results, next_cursor(request, len(results), self.rank_window), request.order, str(request.query)
        )

    def incidents(self, filters: IncidentFilter) -> list[dict[str, Any]]:
        where: list[str] = []
        params: list[Any] = []
        if filters.actor:
            where.append("actor_key = ?")
            params.append(filters.actor.strip().casefold())
        if filters.kind:
            where.append("kind = ?")
            params.append(filters.kind)
        if filters.since is not None:
            where.append("last_seen >= ?")
            params.append(filters.since)
        if filters.until is not None:
            where.append("first_seen < ?")
            params.append(filters.until)
        rows = self._rows(
            f"SELECT id, doc FROM incidents {'WHERE ' + ' AND '.join(where) if where else ''}"
            " ORDER BY last_seen DESC, id LIMIT ?",
            [*params, filters.limit],
        )
        return self._views(rows)

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        views = self._views(self._rows("SELECT id, doc FROM incidents WHERE id = ?", (incident_id,)))
        return views[0] if views else None

    def _views(self, incidents: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        if not incidents:
            return []
        ids = [row[0] for row in incidents]
        marks = ", ".join("?" for _ in ids)
        alerts: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for incident_id, doc in self._rows(
            f"SELECT incident_id, doc FROM alerts WHERE incident_id IN ({marks}) ORDER BY detected, id", ids
        ):
            alerts[incident_id].append(orjson.loads(doc) if isinstance(doc, bytes | str) else doc)
        docs = {row[0]: orjson.loads(row[1]) if isinstance(row[1], bytes | str) else row[1] for row in incidents}
        article_ids = sorted(
            {str(a) for d in docs.values() for a in d.get("article_ids") or []}
            | {str(a.get("article_id")) for group in alerts.values() for a in group}
        )
        published: dict[str, str | None] = {}
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            published.update(self._rows(f"SELECT id, published_at FROM articles WHERE id IN ({marks})", chunk))
        return [incident_view(docs[i], alerts[i], published) for i in ids]
