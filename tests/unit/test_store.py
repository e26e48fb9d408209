"""The archive's storage suite, run against both stores: SQLite + FTS5 (a file in a temp dir) and a real
PostgreSQL server (tests/postgres.py). Records below were written for these tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.readme import readme_block
from wirewatch.streams.store import IncidentFilter, Store, search_request
from wirewatch.streams.store.base import parse_time
from wirewatch.streams.store.postgres import PostgresStore
from wirewatch.streams.store.sqlite import SqliteStore


def enriched(
    article_id: str,
    title: str,
    text: str,
    published_at: str,
    *,
    feed: str = "wire",
    entities: dict[str, int] | None = None,
    findings: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "schema": "wirewatch.enriched/v1",
        "id": article_id,
        "url": f"https://news.example.org/{article_id}",
        "feed": feed,
        "title": title,
        "text": text,
        "published_at": published_at,
        "entities": [],
        "entity_counts": entities or {},
        "stances": [
            {
                "speaker": "the envoy",
                "speaker_canonical": "Envoy",
                "target": "diplomacy",
                "stance": "favor",
                "confidence": 0.8,
                "evidence": {"text": "talks", "start": 0, "end": 5},
            }
        ],
        "signals": [{"kind": k, "modality": m, "actor": a, "alertable": True} for a, k, m in findings],
        "processing": {"model": "test", "ms": 1.0},
    }


ARTICLES = [
    enriched(
        "a1",
        "North Korea fires ballistic missiles",
        "North Korea fired two ballistic missiles toward the Sea of Japan on Thursday, officials said.",
        "2019-11-28T09:00:00Z",
        entities={"North Korea": 3, "Japan": 1},
        findings=[("North Korea", "srbm", "occurred")],
    ),
    enriched(
        "a2",
        "Envoy warns of ICBM test",
        "The envoy warned that a long-range missile test could come in the coming weeks.",
        "2019-12-11T15:00:00Z",
        feed="agency",
        entities={"North Korea": 1, "United States": 2},
        findings=[("North Korea", "icbm", "possible")],
    ),
    enriched(
        "a3",
        "Orchestra <b>season</b> opens",
        "The orchestra opened its season with a missile-free programme of chamber music and a drill.",
        "2019-12-01T20:00:00Z",
        feed="arts",
    ),
    enriched(
        "a4",
        "Satellite rocket launch planned",
        "Officials said the rocket would carry a satellite; a ballistic missile drill was also reported.",
        "2020-01-05T06:00:00Z",
        entities={"Iran": 2},
        findings=[("Iran", "space_launch_vehicle", "possible")],
    ),
]

INCIDENT = {
    "schema": "wirewatch.incident/v1",
    "incident_id": "inc-1",
    "actor": "North Korea",
    "kind": "srbm",
    "modality": "occurred",
    "first_seen": "2019-11-28T09:00:00Z",
    "last_seen": "2019-11-28T12:00:00Z",
    "article_ids": ["a1"],
    "feeds": ["wire"],
    "alert_count": 1,
    "max_severity": "high",
    "details": {"count": 2, "range_km": 380},
    "headline": "North Korea fires ballistic missiles",
}


def alert(alert_id: str, incident_id: str, article_id: str, modality: str, detected_at: str) -> dict[str, Any]:
    return {
        "schema": "wirewatch.alert/v1",
        "alert_id": alert_id,
        "incident_id": incident_id,
        "article_id": article_id,
        "title": f"title of {article_id}",
        "url": f"https://news.example.org/{article_id}",
        "feed": "wire",
        "kind": "srbm",
        "modality": modality,
        "actor": "North Korea",
        "details": {},
        "severity": "high",
        "confidence": 0.9,
        "evidence": [{"text": "fired two ballistic missiles", "start": 0, "end": 10}],
        "detected_at": detected_at,
    }


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened: Store = SqliteStore(tmp_path / "archive.sqlite3")
    else:
        opened = PostgresStore(request.getfixturevalue("postgres_url"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def filled(store: Store) -> Store:
    store.upsert_articles(ARTICLES)
    store.upsert_incidents([INCIDENT])
    store.upsert_alerts([alert("al-1", "inc-1", "a1", "occurred", "2019-11-28T09:00:05Z")])
    return store


def ids(store: Store, q: str | None, **filters: Any) -> list[str]:
    return [r["id"] for r in store.search(search_request(q, **filters)).results]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ballistic", ["a1", "a4"]),
        ("missiles", ["a1", "a2", "a3", "a4"]),  # stemmed: missile, missiles; missile-free
        ('"ballistic missiles"', ["a1", "a4"]),
        ('"missile drill"', ["a4"]),
        ('"Sea of Japan"', ["a1"]),
        ("orchestra OR satellite", ["a3", "a4"]),
        ("missile -drill", ["a1", "a2"]),
        ('missile -"ballistic missile"', ["a2", "a3"]),
        ("submarine", []),
    ],
)
def test_both_stores_answer_the_query_language_alike(filled: Store, q: str, expected: list[str]) -> None:
    assert sorted(ids(filled, q)) == expected


def test_a_title_hit_ranks_first_and_time_order_is_newest_first(filled: Store) -> None:
    assert ids(filled, "satellite")[0] == "a4"
    assert ids(filled, "ballistic", order="relevance")[0] == "a1"  # in the title of a1, the text of a4
    assert ids(filled, "ballistic", order="time") == ["a4", "a1"]
    assert ids(filled, None) == ["a4", "a2", "a3", "a1"]


def test_filters(filled: Store) -> None:
    assert sorted(ids(filled, "missile", actor="north korea")) == ["a1", "a2"]
    assert sorted(ids(filled, None, actor="NORTH KOREA")) == ["a1", "a2"]
    assert ids(filled, None, kind="icbm") == ["a2"]
    assert ids(filled, None, modality="possible") == ["a4", "a2"]
    assert ids(filled, None, feed="arts") == ["a3"]
    assert sorted(ids(filled, "missile", since="2019-12-01", until="2019-12-31")) == ["a2", "a3"]
    assert ids(filled, None, actor="North Korea", since="2019-12-01") == ["a2"]
    assert ids(filled, None, actor="North Korea", until="2019-12-01") == ["a1"]
    assert ids(filled, None, kind="icbm", actor="Iran") == []


def test_results_carry_highlights_entities_and_stances_with_markup_as_text(filled: Store) -> None:
    (hit,) = filled.search(search_request("season")).results
    assert hit["title"] == "Orchestra <b>season</b> opens"
    assert {"text": "season", "hit": True} in hit["title_highlight"]
    assert "".join(s["text"] for s in hit["title_highlight"]) == hit["title"]
    assert any(s["hit"] and s["text"].lower() == "season" for s in hit["snippet"])
    (nk,) = filled.search(search_request('"Sea of Japan"')).results
    assert nk["entities"][0] == {"name": "North Korea", "count": 3}
    assert nk["stances"][0]["target"] == "diplomacy" and nk["stances"][0]["stance"] == "favor"
    assert nk["findings"] == [{"kind": "srbm", "modality": "occurred", "actor": "North Korea", "alertable": True}]
    assert nk["published_at"] == "2019-11-28T09:00:00Z" and nk["url"].endswith("/a1")


def test_paging_with_the_cursor(filled: Store) -> None:
    first = filled.search(search_request(None, limit=3))
    assert len(first.results) == 3 and first.next_cursor
    second = filled.search(search_request(None, limit=3, cursor=first.next_cursor))
    assert [r["id"] for r in second.results] == ["a1"] and second.next_cursor is None


def test_upserts_by_key_make_no_duplicates(filled: Store) -> None:
    before = filled.counts()
    assert before == {"articles": 4, "alerts": 1, "incidents": 1}
    filled.upsert_articles(ARTICLES)
    filled.upsert_alerts([alert("al-1", "inc-1", "a1", "occurred", "2019-11-28T09:00:05Z")])
    filled.upsert_incidents([INCIDENT])
    assert filled.counts() == before
    changed = dict(ARTICLES[2], title="Orchestra season opens with a submarine")
    filled.upsert_articles([changed])
    assert ids(filled, "submarine") == ["a3"] and ids(filled, "season") == ["a3"]
    assert sorted(ids(filled, None, feed="arts")) == ["a3"] and filled.counts() == before


def test_an_incident_grows_and_an_older_version_never_rolls_it_back(filled: Store) -> None:
    grown = dict(INCIDENT, alert_count=2, article_ids=["a1", "a2"], feeds=["wire", "agency"], modality="occurred")
    filled.upsert_alerts([alert("al-0", "inc-1", "a2", "possible", "2019-11-28T08:00:00Z")])
    filled.upsert_incidents([grown])
    filled.upsert_incidents([INCIDENT])  # a late re-delivery of version 1
    view = filled.incident("inc-1")
    assert view is not None
    assert view["alert_count"] == 2 and view["outlets"] == ["agency", "wire"]
    assert [a["alert_id"] for a in view["alerts"]] == ["al-0", "al-1"]  # in detection order
    assert [a["modality"] for a in view["alerts"]] == ["possible", "occurred"]
    assert [r["article_id"] for r in view["reports"]] == ["a1", "a2"]
    assert view["reports"][0]["published_at"] == "2019-11-28T09:00:00Z"
    assert view["details"] == {"count": 2, "range_km": 380}
    assert filled.incident("nope") is None


def test_an_incidents_timeline_gives_evidence_as_the_alerts_do(filled: Store) -> None:
    """{text, start, end} objects, as on news.alerts and /api/alerts; a malformed item is passed over."""
    odd = alert("al-2", "inc-1", "a2", "occurred", "2019-11-28T10:00:00Z")
    odd["evidence"] = ["a bare string", {"text": "launched a missile", "start": 4, "end": 22}]
    filled.upsert_alerts([odd])
    view = filled.incident("inc-1")
    assert view is not None
    assert [a["evidence"] for a in view["alerts"]] == [
        [{"text": "fired two ballistic missiles", "start": 0, "end": 10}],
        [{"text": "launched a missile", "start": 4, "end": 22}],
    ]
    # and the README's example of GET /api/incidents/{id} has the same shape
    example = orjson.loads(readme_block("incident-json", "json"))
    assert set(example) == set(view) and set(example["reports"][0]) == set(view["reports"][0])
    assert set(example["alerts"][0]) == set(view["alerts"][0])
    assert set(example["alerts"][0]["evidence"][0]) == set(view["alerts"][0]["evidence"][0])


def test_incident_filters_newest_first(filled: Store) -> None:
    later = dict(
        INCIDENT,
        incident_id="inc-2",
        kind="icbm",
        modality="possible",
        first_seen="2019-12-11T15:00:00Z",
        last_seen="2019-12-11T15:00:00Z",
        article_ids=["a2"],
    )
    iran = dict(
        INCIDENT,
        incident_id="inc-3",
        actor="Iran",
        kind="space_launch_vehicle",
        first_seen="2020-01-05T06:00:00Z",
        last_seen="2020-01-05T06:00:00Z",
        article_ids=["a4"],
    )
    filled.upsert_incidents([later, iran])
    listed = filled.incidents(IncidentFilter())
    assert [i["id"] for i in listed] == ["inc-3", "inc-2", "inc-1"]
    assert [i["id"] for i in filled.incidents(IncidentFilter(actor="north korea"))] == ["inc-2", "inc-1"]
    assert [i["id"] for i in filled.incidents(IncidentFilter(kind="icbm"))] == ["inc-2"]
    since = parse_time("2019-12-01", "since")
    assert [i["id"] for i in filled.incidents(IncidentFilter(since=since))] == ["inc-3", "inc-2"]
    until = parse_time("2019-12-01", "until")
    assert [i["id"] for i in filled.incidents(IncidentFilter(until=until))] == ["inc-1"]
    first = listed[-1]
    assert first["reports"][0]["title"] == "title of a1" and first["report_count"] == 1


def test_retention_prunes_articles_and_keeps_incidents_and_alerts(filled: Store) -> None:
    cutoff = parse_time("2019-12-05", "until")
    assert cutoff is not None
    assert filled.prune_articles(cutoff) == 2
    assert filled.counts() == {"articles": 2, "alerts": 1, "incidents": 1}
    assert sorted(ids(filled, "missile")) == ["a2", "a4"]
    assert ids(filled, None, actor="North Korea") == ["a2"]  # the tags went with the articles
    view = filled.incident("inc-1")
    assert view is not None and view["reports"][0]["title"] == "title of a1"


def test_migrations_run_once(store: Store) -> None:
    store.counts()
    assert store.migrate() == 1
    store.upsert_articles(ARTICLES[:1])
    assert store.migrate() == 1 and store.counts()["articles"] == 1


def test_relevance_ranks_the_newest_archived_matches(filled: Store) -> None:
    filled.rank_window = 2  # type: ignore[attr-defined]
    # Archived a1..a4 in order: "missile" matches all four; the window holds the last two archived.
    page = filled.search(search_request("missile", limit=2))
    assert sorted(r["id"] for r in page.results) == ["a3", "a4"] and page.next_cursor is None
    assert sorted(ids(filled, "missile", order="time", limit=10)) == ["a1", "a2", "a3", "a4"]
    # Filters apply before the window: the two newest North Korea matches.
    assert sorted(ids(filled, "missile", actor="North Korea")) == ["a1", "a2"]


def test_closing_the_sqlite_archive_waits_for_a_write_under_way(tmp_path: Path) -> None:
    # A worker's shutdown closed the store while the archive's writer thread was inside a write on it, and the
    # process died of a segmentation fault. Now close() waits for the write, and the write lands.
    store = SqliteStore(tmp_path / "archive.sqlite3")
    store._write([("CREATE TABLE t (a, b)", [()])])
    inside, release = threading.Event(), threading.Event()

    def rows() -> Iterator[tuple[Any, ...]]:  # the write's rows, held back until the test lets them go
        inside.set()
        release.wait(10)
        yield ("t", "x")

    writer = threading.Thread(
        target=store._write,
        args=([("INSERT INTO t VALUES (?, ?)", rows())],),
    )
    writer.start()
    assert inside.wait(10)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.5)
    assert closer.is_alive()  # waiting for the write under way, not closing its connection under it
    release.set()
    writer.join(10)
    closer.join(10)
    assert not closer.is_alive()
    assert store._rows("SELECT a, b FROM t") == [("t", "x")]  # the write landed; the store opens again
    store.close()
