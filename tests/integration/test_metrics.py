"""``/metrics`` of a real worker: the documented names, counters that move as articles flow, the token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from wirewatch.streams.records import Article
from wirewatch.streams.testing import WorkerProcess

from .conftest import Cluster

pytestmark = pytest.mark.integration
TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DOCUMENTED = (
    "wirewatch_articles",
    "wirewatch_alerts",
    "wirewatch_deadletters",
    "wirewatch_feed_errors",
    "wirewatch_stage_seconds",
    "wirewatch_consumer_lag",
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def base_url(worker: WorkerProcess) -> str:
    return f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}"


def parse(text: str) -> tuple[set[str], Samples]:
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return names, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


async def scrape_until(
    session: aiohttp.ClientSession, url: str, done: Callable[[Samples], bool], timeout: float = 90.0
) -> tuple[set[str], Samples]:
    deadline = time.monotonic() + timeout
    names: set[str] = set()
    samples: Samples = {}
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/metrics", headers=AUTH) as response:
                if response.status == 200:
                    names, samples = parse(await response.text())
                    if done(samples):
                        break
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    return names, samples


async def test_metrics_names_counters_and_token(cluster: Cluster) -> None:
    worker = cluster.worker(WIREWATCH_API_TOKEN=TOKEN, WIREWATCH_LAG_INTERVAL="1")
    url = base_url(worker)
    async with aiohttp.ClientSession() as session:
        names, first = await scrape_until(session, url, lambda s: bool(s), timeout=120)
        assert first, worker.log()[-3000:]
        for name in DOCUMENTED:
            assert name in names, f"{name} missing from /metrics"
        assert any(n.startswith("faust_") for n in names), "Faust's own metrics must be on the same page"

        # The token guards /metrics, the APIs and the page.
        async with session.get(url + "/metrics") as response:
            assert response.status == 401
        async with session.get(url + "/api/status", headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
        async with session.get(url + "/", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/login"

        launch = Article.create(
            "South Korea's military said North Korea fired two short-range ballistic missiles into the sea "
            "off its east coast on Wednesday morning. The missiles flew about 600 kilometres.",
            title="North Korea fires missiles",
            feed="metrics-test",
            published_at="2021-03-24T22:00:00Z",
        )
        calm = Article.create("The city council approved a new park budget on Tuesday.", feed="metrics-test")
        records = [(launch.id.encode(), launch.to_bytes()), (calm.id.encode(), calm.to_bytes())]
        await cluster.produce([*records, (b"bad", b"{not json")])

        def moved(s: Samples) -> bool:
            return (
                total(s, "wirewatch_articles_total", stage="ingested") >= 3
                and total(s, "wirewatch_articles_total", stage="enriched") >= 2
                and total(s, "wirewatch_articles_total", stage="deadlettered") >= 1
                and total(s, "wirewatch_articles_total", stage="alerted") >= 1
                and total(s, "wirewatch_consumer_lag", group=cluster.app_id) == 0
                and any(n == "wirewatch_consumer_lag" for n, _ in s)
            )

        _, after = await scrape_until(session, url, moved)
    assert total(after, "wirewatch_articles_total", stage="ingested") == 3, worker.log()[-3000:]
    assert total(after, "wirewatch_articles_total", stage="enriched") == 2
    assert total(after, "wirewatch_articles_total", stage="deadlettered") == 1
    assert total(after, "wirewatch_articles_total", stage="alerted") == 1
    assert total(after, "wirewatch_deadletters_total", stage="validate", reason="not_json") == 1
    assert total(after, "wirewatch_alerts_total", kind="srbm") >= 1
    assert total(after, "wirewatch_stage_seconds_count", stage="enrich") == 2
    assert total(after, "wirewatch_stage_seconds_count", stage="ingest_to_alert") >= 1
    raw = ("topic", cluster.topic("news.raw"))
    raw_lag = [ls for n, ls in after if n == "wirewatch_consumer_lag" and raw in ls]
    assert raw_lag, "lag of the worker's own group on news.raw is exported"
    assert total(after, "faust_messages_received_total") >= 3
