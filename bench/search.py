"""Archive benchmark: load generated enriched articles (bench/corpus.py's sentences, written for this
project, plus generated entities and findings), incidents and alerts into each store, then time five
query shapes. Prints one line per store and shape, and ends with one JSON line of figures.

    python bench/search.py                      # 100,000 articles, SQLite and a throwaway PostgreSQL
    python bench/search.py --articles 20000 --stores sqlite
    python bench/search.py --postgres postgresql://user@host/db   # an existing (empty) database

Shapes: ``words`` (two words, ranked), ``phrase`` (a two-word phrase, ranked), ``actor_time`` (an actor
and a 30-day window, newest first), ``kind`` (a kind filter, newest first), ``incident`` (one incident by
id with its alerts and reports). Target: p95 < 50 ms for every shape on both stores at 100k articles.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]  # corpus (bench/) and tools/ from a checkout

from corpus import CITIES, SEAS, STATES, STATES2, make_article  # noqa: E402

from tools.postgres import ThrowawayPostgres  # noqa: E402
from wirewatch.agents.taxonomy import TAXONOMY  # noqa: E402
from wirewatch.streams.store import Store, search_request  # noqa: E402
from wirewatch.streams.store.postgres import PostgresStore  # noqa: E402
from wirewatch.streams.store.sqlite import SqliteStore  # noqa: E402

START = 1_546_300_800.0  # 2019-01-01T00:00:00Z: published times spread over two years from here
SPAN = 2 * 365 * 86400.0
MODALITIES = ("occurred", "possible", "threatened")
KINDS = [kind.name for kind in TAXONOMY.kinds]
TITLES = [
    "{state} fires missiles toward the {sea}",
    "Talks with {state} stall over sanctions",
    "{state2} and {state} hold emergency call",
    "Markets in {city} steady after launch",
    "Security Council to meet on {state}",
    "{state} warns of further tests",
]
WORDS = [
    "ballistic launch",
    "sanctions diplomacy",
    "satellite images",
    "emergency meeting",
    "flight data",
    "shipping vessels",
    "interest rates",
    "joint exercises",
]
PHRASES = [
    '"security council"',
    '"ballistic missiles"',
    '"flight data"',
    '"national security"',
    '"fuel prices"',
    '"launch site"',
]


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def enriched_records(n: int, words: int, seed: int = 17) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        article = make_article(rng, words, i)
        text = article.text
        counts = {s: text.count(s) for s in (*STATES, *STATES2) if s in text}
        signals = []
        if counts and rng.random() < 0.3:
            actor = rng.choice([s for s in STATES if s in counts] or list(counts))
            signals.append(
                {"kind": rng.choice(KINDS), "modality": rng.choice(MODALITIES), "actor": actor, "alertable": True}
            )
        title = rng.choice(TITLES).format(
            state=rng.choice(STATES), state2=rng.choice(STATES2), sea=rng.choice(SEAS), city=rng.choice(CITIES)
        )
        yield {
            "schema": "wirewatch.enriched/v1",
            "id": f"bench-{i}",
            "url": f"https://bench.example.org/{i}",
            "feed": f"feed-{i % 20}",
            "title": title,
            "text": text,
            "published_at": iso(START + rng.random() * SPAN),
            "entities": [],
            "entity_counts": counts,
            "stances": [],
            "signals": signals,
            "processing": {"model": "bench", "ms": 0.0},
        }


def incidents_and_alerts(n: int, articles: int, seed: int = 23) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    incidents, alerts = [], []
    for i in range(n):
        first = START + rng.random() * SPAN
        article_ids = [f"bench-{rng.randrange(articles)}" for _ in range(rng.randint(1, 4))]
        kind = rng.choice(KINDS)
        for j, article_id in enumerate(article_ids):
            alerts.append(
                {
                    "alert_id": f"al-{i}-{j}",
                    "incident_id": f"inc-{i}",
                    "article_id": article_id,
                    "kind": kind,
                    "modality": rng.choice(MODALITIES),
                    "title": f"report {j}",
                    "feed": "bench",
                    "detected_at": iso(first + j * 600),
                    "evidence": [],
                }
            )
        incidents.append(
            {
                "incident_id": f"inc-{i}",
                "actor": rng.choice(STATES),
                "kind": kind,
                "modality": "occurred",
                "first_seen": iso(first),
                "last_seen": iso(first + 3600),
                "article_ids": article_ids,
                "feeds": ["bench"],
                "alert_count": len(article_ids),
                "max_severity": "high",
                "details": {"count": 2},
                "headline": "bench incident",
            }
        )
    return incidents, alerts


def load(store: Store, n: int, words: int, batch: int = 1000) -> float:
    """Insert n articles in batches; returns articles per second."""
    started = time.perf_counter()
    pending: list[dict[str, Any]] = []
    for record in enriched_records(n, words):
        pending.append(record)
        if len(pending) == batch:
            store.upsert_articles(pending)
            pending = []
    store.upsert_articles(pending)
    return n / (time.perf_counter() - started)


def shapes(n_incidents: int, rng: random.Random) -> dict[str, Callable[[Store], Any]]:
    def words(store: Store) -> Any:
        return store.search(search_request(rng.choice(WORDS)))

    def phrase(store: Store) -> Any:
        return store.search(search_request(rng.choice(PHRASES)))

    def actor_time(store: Store) -> Any:
        since = START + rng.random() * (SPAN - 30 * 86400)
        return store.search(
            search_request(None, actor=rng.choice(STATES), since=iso(since), until=iso(since + 30 * 86400))
        )

    def kind(store: Store) -> Any:
        return store.search(search_request(None, kind=rng.choice(KINDS)))

    def incident(store: Store) -> Any:
        return store.incident(f"inc-{rng.randrange(n_incidents)}")

    return {"words": words, "phrase": phrase, "actor_time": actor_time, "kind": kind, "incident": incident}


def measure(store: Store, runs: int, n_incidents: int) -> dict[str, dict[str, float]]:
    figures = {}
    for name, query in shapes(n_incidents, random.Random(5)).items():
        for _ in range(5):  # warm the caches a little, as a running archive's are
            query(store)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            query(store)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        figures[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        }
    return figures


@contextmanager
def opened(kind: str, postgres_url: str | None) -> Iterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wwbench-") as tmp:
            store = SqliteStore(Path(tmp) / "archive.sqlite3")
            try:
                yield store
            finally:
                store.close()
    elif postgres_url:
        store = PostgresStore(postgres_url)
        try:
            yield store
        finally:
            store.close()
    else:
        with ThrowawayPostgres() as server:
            store = PostgresStore(server.url())
            try:
                yield store
            finally:
                store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=120, help="words per article")
    parser.add_argument("--incidents", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=200, help="queries timed per shape")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--postgres", default=None, help="an existing empty database (default: a throwaway one)")
    args = parser.parse_args()
    incidents, alerts = incidents_and_alerts(args.incidents, args.articles)
    result: dict[str, Any] = {"articles": args.articles, "words_per_article": args.words, "incidents": args.incidents}
    for kind in args.stores.split(","):
        with opened(kind, args.postgres) as store:
            rate = load(store, args.articles, args.words)
            store.upsert_alerts(alerts)
            store.upsert_incidents(incidents)
            store.optimize()  # fresh statistics, as `wirewatch archive` (or autovacuum) leaves them
            print(
                f"{kind}: inserted {args.articles} articles at {rate:,.0f}/s; counts {store.counts()}", file=sys.stderr
            )
            queries = measure(store, args.runs, args.incidents)
            for shape, figure in queries.items():
                flag = "" if figure["p95_ms"] < 50 else "  (over the 50 ms target)"
                print(
                    f"{kind:8} {shape:11} p50 {figure['p50_ms']:8.2f} ms  p95 {figure['p95_ms']:8.2f} ms{flag}",
                    file=sys.stderr,
                )
            result[kind] = {"insert_per_s": round(rate, 1), "queries": queries}
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
