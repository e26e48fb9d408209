"""Feeds on a real broker: the standalone runner (aiokafka) and feeds + POST /api/ingest inside a real
worker, fed by local HTTP servers written for these tests."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.feed_site import STORIES, Site
from tests.unit.test_feeds_config import install_plugin_dist
from wirewatch.streams import testing
from wirewatch.streams.feeds.runner import StandaloneProducer, run_standalone, runner_for, state_for
from wirewatch.streams.settings import Settings

from .conftest import Cluster

pytestmark = pytest.mark.integration
TOKEN = "integration-token"


def feeds_toml(site: Site, drop: Path, interval: float = 300) -> str:
    return textwrap.dedent(
        f"""
        [[feed]]
        id = "courier"
        type = "rss"
        url = "{site.base}/rss.xml"
        interval = {interval}

        [[feed]]
        id = "observer"
        type = "atom"
        url = "{site.base}/atom.xml"
        interval = {interval}

        [[feed]]
        id = "broken"
        type = "rss"
        url = "{site.base}/status/500"
        backoff = 0.2
        max_backoff = 5

        [[feed]]
        id = "drop"
        type = "jsonl"
        path = "{drop}"
        settle = 0
        interval = 0.5

        [[feed]]
        id = "town-board"
        type = "bulletin"
        board = "Elland town hall"
        notices = [{{ title = "Road closed", text = "Mill Lane is closed for resurfacing until Friday." }}]
        """
    )


async def read_raw(cluster: Cluster, minimum: int, quiet: float = 1.5, timeout: float = 30) -> list[dict]:
    """Every record of news.raw (values that are not JSON as ``{"_raw": bytes}``), once at least ``minimum``
    arrived and nothing more came for ``quiet`` seconds."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topic = cluster.topic("news.raw")
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    records: list[dict] = []
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + timeout
        while not partitions and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
            await asyncio.sleep(0.2)
        consumer.assign([TopicPartition(topic, p) for p in partitions or ()])
        await consumer.seek_to_beginning()
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                for m in messages:
                    try:
                        value = orjson.loads(m.value)
                    except orjson.JSONDecodeError:
                        value = {"_raw": m.value}
                    records.append(value | {"_key": m.key})
                    last_new = time.monotonic()
            if len(records) >= minimum and time.monotonic() - last_new > quiet:
                break
    finally:
        await consumer.stop()
    return records


def titles(records: list[dict]) -> Counter[str]:
    return Counter(r["title"] for r in records if "id" in r)


async def test_standalone_runner_produces_once_across_polls_and_restarts(
    cluster: Cluster, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for entry in install_plugin_dist(tmp_path / "site-packages"):
        monkeypatch.syspath_prepend(entry)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "batch.jsonl").write_bytes(
        orjson.dumps({"title": "Pier repainted", "text": "The old pier was painted blue."}) + b"\n{oops\n"
    )
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml(site, drop))
    settings = Settings(broker=f"kafka://{cluster.bootstrap}", topic_prefix=cluster.prefix, data_dir=str(tmp_path))

    healths = await run_standalone(settings, config, once=True)
    assert healths["courier"].new == 2 and healths["observer"].new == 2 and healths["town-board"].new == 1
    assert healths["drop"].new == 1 and healths["drop"].invalid == 1
    assert healths["broken"].errors == 1 and "HTTP 500" in (healths["broken"].last_error or "")

    # Re-poll in the same run (ETag → 304), then a restarted runner after the feed changed.
    sink = await StandaloneProducer(settings).start()
    runner = runner_for(settings, config, sink)
    try:
        await runner.run_once()
        assert runner.health()["courier"]["notes"].get("not_modified") == 1
        site.rss_ids = [1, 2, 3]
        await runner.run_once()
        assert (runner.health()["courier"]["new"], runner.health()["courier"]["duplicates"]) == (1, 2)
        assert runner.health()["town-board"]["duplicates"] == 2
    finally:
        await runner.aclose()
        runner.context.state.close()
        await sink.stop()

    expected = 2 + 2 + 1 + 1 + 1 + 1  # courier (1, 2 then 3), observer, pier, bad line, bulletin
    records = await read_raw(cluster, expected)
    counts = titles(records)
    assert counts == Counter(
        {
            STORIES[1][0]: 1,
            STORIES[2][0]: 1,
            STORIES[3][0]: 1,
            "Bridge over the Vell reopens after repairs": 1,
            "Library extends opening hours": 1,
            "Pier repainted": 1,
            "Road closed": 1,
        }
    ), counts
    keys = {r["_key"] for r in records if "id" in r}
    assert keys == {r["id"].encode() for r in records if "id" in r}
    assert [r for r in records if "id" not in r] == [{"_raw": b"{oops", "_key": None}]  # the bad line, as is
    state = state_for(settings)
    assert state.count("courier") == 3
    state.close()


async def post_when_up(url: str, body: bytes, headers: dict[str, str], timeout: float = 60) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    if response.status != 404:  # 404 until the route exists (web server not ours yet)
                        return response.status, await response.json()
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up")
            await asyncio.sleep(0.3)


async def test_worker_runs_feeds_and_push_and_articles_are_enriched(
    cluster: Cluster, site: Site, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.jsonl").write_bytes(orjson.dumps({"title": "no text here"}) + b"\n")
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml(site, drop, interval=0.5))  # polled often: dedupe must hold
    plugin_path = ":".join(install_plugin_dist(tmp_path / "site-packages"))
    env = testing.worker_env(
        cluster.bootstrap,
        cluster.prefix,
        cluster.app_id,
        tmp_path / "data",
        WIREWATCH_PARTITIONS="2",
        WIREWATCH_REBALANCE_TIMEOUT="3",
        WIREWATCH_SESSION_TIMEOUT="10",
        WIREWATCH_BATCH_WITHIN="0.1",
        PYTHONPATH=plugin_path,
        WIREWATCH_FEEDS=str(config),
        WIREWATCH_API_TOKEN=TOKEN,
    )
    worker = testing.WorkerProcess(env, tmp_path / "worker.log").start()
    cluster.workers.append(worker)
    url = f"http://127.0.0.1:{env['WIREWATCH_WEB_PORT']}/api/ingest"

    pushed = [{"title": "Ferry strike called off", "text": "Ferry crews called off Monday's strike in Elland."}]
    status, body = await post_when_up(
        url, orjson.dumps([*pushed, {"title": "bad"}]), {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and (body["accepted"], body["rejected"]) == (1, 1), body
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=orjson.dumps(pushed[0])) as response,
    ):
        assert response.status == 401

    wanted = {
        STORIES[1][0],
        STORIES[2][0],
        "Bridge over the Vell reopens after repairs",
        "Road closed",
        "Ferry strike called off",
    }
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= set(titles(rs)), timeout=90)
    assert wanted <= set(titles(enriched)), worker.log()[-4000:]
    board = next(r for r in enriched if r["title"] == "Road closed")
    assert board["feed"] == "town-board" and board["meta"]["board"] == "Elland town hall"
    letters = await cluster.consume(
        "news.deadletter", lambda rs: any(r["reason"] == "missing_text" for r in rs), timeout=30
    )
    assert any(r["reason"] == "missing_text" for r in letters), worker.log()[-4000:]

    polled = site.hits["rss"]
    deadline = time.monotonic() + 30
    while site.hits["rss"] < polled + 3 and time.monotonic() < deadline:  # several more polls of the feed
        await asyncio.sleep(0.2)
    assert site.hits["rss"] >= polled + 3, site.hits
    raw = await read_raw(cluster, len(wanted))
    counts = titles(raw)
    assert all(counts[t] == 1 for t in wanted), counts
    assert worker.stop() == 0, worker.log()[-4000:]
    assert "Traceback" not in worker.log(), worker.log()[-4000:]
