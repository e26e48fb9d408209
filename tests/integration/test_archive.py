"""The archive on a real broker and a real worker: the seed and articles written for this test flow
through the pipeline into the store (SQLite in the worker's data dir), the CLI and the API find them, and
a replayed topic or a rebuild changes no count."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest

from wirewatch.streams.lag import read_lag
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings
from wirewatch.streams.store.sqlite import SqliteStore

from .conftest import Cluster
from .test_dashboard import wait_for

pytestmark = pytest.mark.integration
TOKEN = "archive-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARKUP_TITLE = "<script>alert(1)</script> Rocket launch report"


def written_articles(seed_text: str) -> list[Article]:
    """The seed and two articles written for this test (one with markup in its title)."""
    seed = Article.create(
        seed_text, title="Security Council meets on North Korea", feed="seed", published_at="2019-12-12T10:00:00Z"
    )
    launch = Article.create(
        "Japan's defence ministry said North Korea launched an intercontinental ballistic missile on Friday "
        "that reached an altitude of about 6,000 kilometres before falling into the sea.",
        title=MARKUP_TITLE,
        url="https://news.example.org/archive/icbm",
        feed="archive-test",
        published_at="2022-11-18T05:00:00Z",
    )
    calm = Article.create(
        "The city library extended its opening hours for the winter reading festival.",
        title="Library hours",
        feed="archive-test",
        published_at="2022-11-20T09:00:00Z",
    )
    return [seed, launch, calm]


def quiet_for(seconds: float) -> Callable[[list[dict[str, Any]]], bool]:
    """A condition for ``Cluster.consume``: records were read and none came for ``seconds``. Stands for the
    fixed 5 s of reading each topic took before; a record the workers were still writing comes well within
    it (a topic written to meanwhile only delays the end)."""
    seen = {"count": -1, "since": time.monotonic()}

    def quiet(records: list[dict[str, Any]]) -> bool:
        if len(records) != seen["count"]:
            seen["count"], seen["since"] = len(records), time.monotonic()
        return bool(records) and time.monotonic() - seen["since"] >= seconds

    return quiet


def json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


async def test_the_pipeline_fills_the_archive_and_a_replay_changes_no_count(cluster: Cluster, seed_text: str) -> None:
    # Two workers share the pipeline's group and the archive's (and the SQLite file): each record lands once.
    worker = cluster.worker(WIREWATCH_API_TOKEN=TOKEN)
    cluster.worker(WIREWATCH_API_TOKEN=TOKEN)
    url = f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}"
    articles = written_articles(seed_text)
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in articles])
    store = SqliteStore(cluster.tmp_path / "data" / "archive.sqlite3")

    async with aiohttp.ClientSession() as session:

        async def get(path: str, **params: str) -> tuple[int, Any]:
            async with session.get(url + path, params=params, headers=AUTH) as response:
                return response.status, await response.json()

        async def archived() -> dict[str, Any] | None:
            for each in cluster.workers:
                if each.process is not None and each.process.poll() is not None:
                    pytest.fail(f"worker exited:\n{each.log()[-4000:]}")
            try:
                status, body = await get("/api/incidents")
            except aiohttp.ClientError:
                return None
            counts = await asyncio.to_thread(store.counts)
            done = status == 200 and counts["articles"] == 3 and counts["incidents"] == 3
            # the listing was read before the counts: it must itself hold the three (a CI run once took a listing
            # of one incident, read just before the other two were stored)
            listed = body["incidents"] if status == 200 else []
            return body if done and len(listed) == 3 and all(i["reports"] for i in listed) else None

        listed = await wait_for(archived, "3 articles and 3 incidents in the archive", timeout=180)
        seed_incidents = [i for i in listed["incidents"] if articles[0].id in {r["article_id"] for r in i["reports"]}]
        assert len(seed_incidents) == 2
        assert {i["modality"] for i in seed_incidents} == {"occurred", "possible"}
        assert {i["actor"] for i in seed_incidents} == {"North Korea"}

        # The API: ranked search with highlights, the markup title as data, a bad query is a 400 with the reason.
        status, found = await get("/api/search", q='"ballistic missile"')
        assert status == 200 and articles[0].id in [r["id"] for r in found["results"]]
        status, found = await get("/api/search", q="rocket launch report", kind="icbm")
        assert status == 200 and [r["title"] for r in found["results"]] == [MARKUP_TITLE]
        status, bad = await get("/api/search", q='"unclosed')
        assert status == 400 and "not closed" in bad["error"]
        status, detail = await get(f"/api/incidents/{seed_incidents[0]['id']}")
        assert status == 200 and detail["alerts"] and detail["reports"][0]["feed"] == "seed"
        async with session.get(url + "/api/search", params={"q": "missile"}) as response:
            assert response.status == 401  # the archive's routes are behind the token like every route

    # The CLI reads the same store.
    hits = json_lines(cluster.cli("search", "ballistic missile", "--json"))
    assert articles[0].id in [h["id"] for h in hits]
    incidents = json_lines(cluster.cli("incidents", "--actor", "North Korea", "--json"))
    assert len(incidents) == 3
    for incident in incidents:
        assert {"id", "kind", "modality", "actor", "reports"} <= set(incident)
    assert sum(articles[0].id in {r["article_id"] for r in i["reports"]} for i in incidents) == 2
    bad = cluster.cli("search", "launch OR -missile")
    assert bad.returncode == 2 and "not excluded" in bad.stderr

    # Replay news.enriched, news.alerts and news.incidents into themselves: the archive group reads every
    # record again, and no count changes.
    before = await asyncio.to_thread(store.counts)
    # (A topic may already hold a record twice: a rebalance between two workers re-processes what was not
    # committed yet. The archive's counts do not depend on it.)
    on_topic: dict[str, int] = {}
    for topic in ("news.enriched", "news.alerts", "news.incidents"):
        records = await cluster.consume(topic, quiet_for(2.5), timeout=30.0)
        on_topic[topic] = len(records)
        await cluster.produce(
            [(r["_key"], orjson.dumps({k: v for k, v in r.items() if not k.startswith("_")})) for r in records], topic
        )
    settings = Settings(broker=cluster.bootstrap, topic_prefix=cluster.prefix, app_id=cluster.app_id)

    async def caught_up() -> bool:
        lag = await read_lag(settings, groups=[f"{cluster.app_id}-archive"])
        rows = [r for r in lag.rows if r.group == f"{cluster.app_id}-archive"]
        return len({r.topic for r in rows}) == 3 and all(r.end > 0 and r.lag == 0 for r in rows if r.end)

    # A record on news.enriched that is not one becomes a dead letter of the archive; the rest stays.
    await cluster.produce([(b"bad", b"not json")], "news.enriched")
    await wait_for(caught_up, "the archive group to read the replayed records")
    assert await asyncio.to_thread(store.counts) == before
    letters = await cluster.consume("news.deadletter", lambda rs: any(r.get("stage") == "archive" for r in rs))
    assert [r["reason"] for r in letters if r.get("stage") == "archive"] == ["invalid_json"]
    caught = json_lines(cluster.cli("archive"))[0]  # from the group's offsets: nothing left to write
    assert caught["written"]["articles"] == 0 and caught["store"] == before

    # A rebuild from the beginning of every topic writes everything again and changes no count either.
    rebuilt = json_lines(cluster.cli("archive", "--from-beginning"))[0]
    assert rebuilt["written"]["articles"] == 2 * on_topic["news.enriched"] and rebuilt["store"] == before
    store.close()
