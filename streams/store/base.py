"""The archive's storage interface (:class:`Store`) and what both implementations share: the rows an
enriched article, an alert or an incident becomes, the search and incident filters, the page cursor and
the shape of every answer. ``sql.py`` holds the SQL both stores share, ``sqlite.py`` and ``postgres.py``
their own (full text, connections, migrations)."""

from __future__ import annotations

import base64
import binascii
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ..records import evidence_items, parse_rfc3339
from .query import Query, QueryError, parse

#: Highlight markers the stores put around a match in a snippet (private-use characters: never shown;
#: article text carrying them has them replaced before it is stored).
HIT_START, HIT_END = "\ue000", "\ue001"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_INCIDENTS = 200
DEFAULT_INCIDENTS = 100
ORDERS = ("relevance", "time")
#: Relevance ranks the most recently archived matches, at most this many (news search favours the recent;
#: older matches are reached with a time range or ``order=time``). It bounds a broad query's cost.
RANK_WINDOW = 1000


class StoreError(RuntimeError):
    """The store cannot be opened or used (bad WIREWATCH_STORE, missing FTS5, server unreachable)."""


@dataclass(frozen=True)
class SearchRequest:
    """A search: the parsed query (None: every article, newest first) and the filters."""

    query: Query | None = None
    actor: str | None = None
    kind: str | None = None
    modality: str | None = None
    feed: str | None = None
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None  # epoch seconds, exclusive
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    order: str = "relevance"

    @property
    def tags(self) -> list[str]:
        """The tag filters (all must hold), as :func:`article_tags` writes them."""
        pairs = (("actor", self.actor), ("kind", self.kind), ("modality", self.modality))
        return [tag(name, value) for name, value in pairs if value]

    @property
    def ranked(self) -> bool:
        return self.query is not None and self.order == "relevance"


@dataclass(frozen=True)
class IncidentFilter:
    actor: str | None = None
    kind: str | None = None
    since: float | None = None  # incidents whose last report is at or after this
    until: float | None = None  # incidents whose first report is before this
    limit: int = 100


@dataclass
class SearchPage:
    results: list[dict[str, Any]]
    next_cursor: str | None
    order: str
    query: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "order": self.order, "results": self.results, "next_cursor": self.next_cursor}


@dataclass
class ArticleRow:
    id: str
    url: str | None
    feed: str
    title: str
    text: str
    published: float
    published_at: str | None
    doc: bytes  # JSON: entity counts, stances, signals (what a search result shows besides the text)
    tags: list[str] = field(default_factory=list)


@dataclass
class IncidentRow:
    id: str
    actor_key: str
    kind: str
    modality: str
    first_seen: float
    last_seen: float
    alert_count: int
    doc: bytes


@dataclass
class AlertRow:
    id: str
    incident_id: str
    article_id: str
    detected: float
    doc: bytes


# ---- records → rows --------------------------------------------------------------------------------------
def tag(name: str, value: str) -> str:
    """One filterable fact about an article: ``actor:north korea``, ``kind:icbm`` (case-folded)."""
    return f"{name}:{value.strip().casefold()}"


def epoch(value: Any, default: float | None = None) -> float | None:
    parsed = parse_rfc3339(value) if value else None
    return parsed.timestamp() if parsed is not None else default


def _clean(text: Any) -> str:
    return str(text or "").replace(HIT_START, " ").replace(HIT_END, " ")


def article_tags(record: Mapping[str, Any]) -> list[str]:
    """Actors (every canonical entity, every finding's actor), kinds and modalities of the alertable
    findings: what the actor / kind / modality filters match."""
    tags = {tag("actor", name) for name in (record.get("entity_counts") or {})}
    for signal in record.get("signals") or []:
        if not isinstance(signal, Mapping):
            continue
        if signal.get("actor"):
            tags.add(tag("actor", str(signal["actor"])))
        if signal.get("alertable"):
            for name in ("kind", "modality"):
                if signal.get(name):
                    tags.add(tag(name, str(signal[name])))
    return sorted(t for t in tags if len(t) <= 200)


def article_row(record: Mapping[str, Any]) -> ArticleRow:
    """The row of an EnrichedArticle (raises KeyError/ValueError for a record without an id)."""
    article_id = str(record["id"])
    if not article_id:
        raise ValueError("an enriched article without an id")
    published = epoch(record.get("published_at")) or epoch(record.get("fetched_at")) or time.time()
    stances = [
        {k: s.get(k) for k in ("speaker", "speaker_canonical", "target", "stance", "confidence")}
        for s in record.get("stances") or []
        if isinstance(s, Mapping)
    ]
    signals = [
        {k: s.get(k) for k in ("kind", "modality", "actor", "alertable")}
        for s in record.get("signals") or []
        if isinstance(s, Mapping)
    ]
    doc = {"entity_counts": record.get("entity_counts") or {}, "stances": stances, "signals": signals}
    return ArticleRow(
        id=article_id,
        url=record.get("url"),
        feed=str(record.get("feed") or "unknown"),
        title=_clean(record.get("title")),
        text=_clean(record.get("text")),
        published=published,
        published_at=record.get("published_at"),
        doc=orjson.dumps(doc),
        tags=article_tags(record),
    )


def incident_row(record: Mapping[str, Any]) -> IncidentRow:
    first = epoch(record.get("first_seen"), 0.0) or 0.0
    return IncidentRow(
        id=str(record["incident_id"]),
        actor_key=str(record.get("actor") or "").casefold(),
        kind=str(record.get("kind") or ""),
        modality=str(record.get("modality") or ""),
        first_seen=first,
        last_seen=epoch(record.get("last_seen"), first) or first,
        alert_count=int(record.get("alert_count") or 0),
        doc=orjson.dumps(dict(record)),
    )


def alert_row(record: Mapping[str, Any]) -> AlertRow:
    return AlertRow(
        id=str(record["alert_id"]),
        incident_id=str(record["incident_id"]),
        article_id=str(record.get("article_id") or ""),
        detected=epoch(record.get("detected_at"), 0.0) or 0.0,
        doc=orjson.dumps(dict(record)),
    )


# ---- answers ---------------------------------------------------------------------------------------------
def segments(marked: str | None) -> list[dict[str, Any]]:
    """A store's highlighted text as segments ``{"text", "hit"}``: the page and the CLI render the hits
    themselves (as text), so no markup from an article ever reaches a browser."""
    out: list[dict[str, Any]] = []
    rest = marked or ""
    while rest:
        start = rest.find(HIT_START)
        if start < 0:
            out.append({"text": rest, "hit": False})
            break
        if start:
            out.append({"text": rest[:start], "hit": False})
        end = rest.find(HIT_END, start)
        end = len(rest) if end < 0 else end
        if end > start + 1:
            out.append({"text": rest[start + 1 : end], "hit": True})
        rest = rest[end + 1 :]
    return out


def search_result(
    article_id: str,
    url: str | None,
    feed: str,
    title: str,
    published_at: str | None,
    published: float,
    doc: Any,
    score: float | None,
    title_marked: str | None,
    snippet_marked: str | None,
) -> dict[str, Any]:
    data = orjson.loads(doc) if isinstance(doc, bytes | str) else dict(doc or {})
    counts = data.get("entity_counts") or {}
    entities = sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))[:12]
    findings = [s for s in data.get("signals") or [] if s.get("alertable")]
    return {
        "id": article_id,
        "url": url,
        "feed": feed,
        "title": title,
        "published_at": published_at or datetime.fromtimestamp(published, UTC).isoformat(),
        "score": round(score, 4) if score is not None else None,
        "title_highlight": segments(title_marked) if title_marked else [{"text": title, "hit": False}],
        "snippet": segments(snippet_marked),
        "entities": [{"name": name, "count": count} for name, count in entities],
        "stances": data.get("stances") or [],
        "findings": findings,
    }


def incident_view(doc: Any, alerts: Sequence[Mapping[str, Any]], published: Mapping[str, str | None]) -> dict[str, Any]:
    """An incident with its alerts in order and its reports (one per article: outlet, title, times)."""
    record = orjson.loads(doc) if isinstance(doc, bytes | str) else dict(doc)
    by_article: dict[str, Mapping[str, Any]] = {}
    for alert in alerts:
        by_article.setdefault(str(alert.get("article_id")), alert)
    reports = []
    for article_id in dict.fromkeys([*(record.get("article_ids") or []), *by_article]):
        alert = by_article.get(article_id, {})
        reports.append(
            {
                "article_id": article_id,
                "title": alert.get("title") or "",
                "url": alert.get("url"),
                "feed": alert.get("feed"),
                "published_at": published.get(article_id),
                "detected_at": alert.get("detected_at"),
            }
        )
    reports.sort(key=lambda r: (r["published_at"] or r["detected_at"] or "", r["article_id"]))
    timeline = [
        {k: a.get(k) for k in ("alert_id", "article_id", "modality", "kind", "severity", "speaker", "detected_at")}
        | {"evidence": evidence_items(a)[:2]}
        for a in alerts
    ]
    return {
        "id": record.get("incident_id"),
        "kind": record.get("kind"),
        "modality": record.get("modality"),
        "actor": record.get("actor"),
        "first_seen": record.get("first_seen"),
        "last_seen": record.get("last_seen"),
        "max_severity": record.get("max_severity"),
        "alert_count": record.get("alert_count"),
        "headline": record.get("headline"),
        "details": record.get("details") or {},
        "outlets": sorted({str(f) for f in record.get("feeds") or []}),
        "report_count": len(reports),
        "reports": reports,
        "alerts": timeline,
    }


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = int(data["o"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise QueryError("the cursor is not one this server gave out") from None
    if offset < 0 or offset > 100_000:
        raise QueryError("the cursor is out of range")
    return offset


def parse_time(value: str | None, name: str) -> float | None:
    """``since`` / ``until``: RFC 3339 or a date (``2019-12-01``, midnight UTC)."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00Z"
    parsed = parse_rfc3339(text)
    if parsed is None:
        raise QueryError(f"{name} must be a date (2019-12-01) or an RFC 3339 time, not {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_limit(limit: int | str | None, default: int, maximum: int) -> int:
    """A page size from user input: ``default`` when not given; QueryError unless a number in 1..maximum."""
    try:
        size = default if limit in (None, "") else int(limit)
    except ValueError:
        raise QueryError(f"limit must be a number, not {limit!r}") from None
    if not 1 <= size <= maximum:
        raise QueryError(f"limit must be between 1 and {maximum}")
    return size


def search_request(
    q: str | None = None,
    *,
    actor: str | None = None,
    kind: str | None = None,
    modality: str | None = None,
    feed: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | str | None = None,
    cursor: str | None = None,
    order: str | None = None,
) -> SearchRequest:
    """Build a SearchRequest from user input (query parameters, CLI options); QueryError says what is wrong."""
    query = parse(q) if q and q.strip() else None
    size = parse_limit(limit, DEFAULT_LIMIT, MAX_LIMIT)
    chosen = order or ("relevance" if query else "time")
    if chosen not in ORDERS:
        raise QueryError(f"order must be one of {', '.join(ORDERS)}")
    return SearchRequest(
        query=query,
        actor=actor or None,
        kind=kind or None,
        modality=modality or None,
        feed=feed or None,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=size,
        offset=decode_cursor(cursor),
        order=chosen,
    )


def incident_request(
    *,
    actor: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | str | None = None,
) -> IncidentFilter:
    """Build an IncidentFilter from user input (query parameters, CLI options); QueryError says what is wrong."""
    size = parse_limit(limit, DEFAULT_INCIDENTS, MAX_INCIDENTS)
    return IncidentFilter(
        actor=actor or None,
        kind=kind or None,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=size,
    )


def next_cursor(request: SearchRequest, returned: int, window: int = RANK_WINDOW) -> str | None:
    end = request.offset + returned
    if returned < request.limit or (request.ranked and end >= window):
        return None
    return encode_cursor(end)


class Store(ABC):
    """One archive. Every method is blocking (call it from a thread in async code); writes are upserts by
    key, so writing a record twice leaves one row."""

    kind: str = ""

    @abstractmethod
    def migrate(self) -> int:
        """Apply the package's pending migrations; returns the schema version."""

    @abstractmethod
    def upsert_articles(self, records: Iterable[Mapping[str, Any]]) -> int: ...

    @abstractmethod
    def upsert_alerts(self, records: Iterable[Mapping[str, Any]]) -> int: ...

    @abstractmethod
    def upsert_incidents(self, records: Iterable[Mapping[str, Any]]) -> int:
        """An incident is replaced only by a version with at least as many alerts (a late re-delivery of
        an older version does not roll it back)."""

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchPage: ...

    @abstractmethod
    def incidents(self, filters: IncidentFilter) -> list[dict[str, Any]]:
        """Incidents newest first (by last report), each as :func:`incident_view`."""

    @abstractmethod
    def incident(self, incident_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def prune_articles(self, older_than: float) -> int:
        """Delete articles published before ``older_than`` (epoch s); alerts and incidents are kept."""

    @abstractmethod
    def counts(self) -> dict[str, int]: ...

    @abstractmethod
    def optimize(self) -> None:
        """Refresh the planner's statistics and compact the index (after a bulk load or a rebuild)."""

    @abstractmethod
    def close(self) -> None: ...
