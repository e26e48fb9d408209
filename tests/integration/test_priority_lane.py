"""The priority lane on a real worker: launch reports produced behind a backlog of ordinary articles on
news.raw are copied to news.raw.priority and enriched before the backlog; every record still ends as
exactly one enriched record (or dead letter), and the alerts are those of the lane switched off."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from wirewatch.streams.records import Article

from .conftest import Cluster

pytestmark = pytest.mark.integration

# Written for the project.
LAUNCHES = [
    "North Korea fired a short-range ballistic missile toward the Sea of Japan on Monday, Seoul's military said.",
    "Iran launched a satellite-carrying rocket from its desert spaceport on Friday, state television reported.",
]
EXPECTED_ALERTS = {("srbm", "occurred", "North Korea"), ("space_launch_vehicle", "occurred", "Iran")}
ORDINARY = "The city council of Lyon approved a budget for new cycle lanes on day {i}, officials said."


def articles() -> tuple[list[Article], list[Article]]:
    backlog = [Article.create(" ".join([ORDINARY.format(i=i)] * 20), feed="backlog") for i in range(160)]
    launches = [Article.create(text, feed="launch", published_at="2026-03-02T00:00:00Z") for text in LAUNCHES]
    return backlog, launches


def positions(records: list[dict[str, Any]]) -> dict[str, int]:
    return {r["id"]: i for i, r in enumerate(sorted(records, key=lambda r: r["_received"]))}


async def run(cluster: Cluster, **settings: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    backlog, launches = articles()
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in [*backlog, *launches]])  # launches last
    cluster.worker(WIREWATCH_BATCH_SIZE="8", **settings)
    wanted = {a.id for a in [*backlog, *launches]}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs}, timeout=240)
    alerts = await cluster.consume("news.alerts", lambda rs: len({r["article_id"] for r in rs}) >= 2, timeout=60)
    return enriched, alerts


async def test_launch_reports_overtake_the_backlog_and_end_once(cluster: Cluster) -> None:
    backlog, launches = articles()
    started = time.monotonic()
    enriched, alerts = await run(cluster)
    ids = [r["id"] for r in enriched]
    assert sorted(ids) == sorted(a.id for a in [*backlog, *launches]), "each record exactly once"
    order = positions(enriched)
    for launch in launches:  # produced after 160 ordinary articles, enriched among the first
        assert order[launch.id] < 40, (order[launch.id], time.monotonic() - started)
    copies = await cluster.consume("news.raw.priority", lambda rs: len(rs) >= 2, timeout=10)
    assert sorted(r["id"] for r in copies) == sorted(a.id for a in launches)  # only the launch reports
    assert {a["article_id"] for a in alerts} == {a.id for a in launches}
    assert {(a["kind"], a["modality"], a["actor"]) for a in alerts} == EXPECTED_ALERTS


async def records_of(cluster: Cluster, topic: str) -> list[tuple[int, str, int]]:
    """(partition, key, producer timestamp in ms) of every record of ``topic`` now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        name = cluster.topic(topic)
        await consumer._client.force_metadata_update()  # as streams.testing does: topics() keeps no metadata
        tps = [TopicPartition(name, p) for p in sorted(consumer._client.cluster.partitions_for_topic(name) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[tuple[int, str, int]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                found += [(m.partition, (m.key or b"").decode(), m.timestamp) for m in messages]
        return found
    finally:
        await consumer.stop()


async def test_with_the_lane_off_the_backlog_keeps_its_order_and_the_alerts_are_the_same(cluster: Cluster) -> None:
    backlog, launches = articles()
    enriched, alerts = await run(cluster, WIREWATCH_PRIORITY_LANE="false")
    # Behind the backlog: each launch report is enriched after every ordinary article of its own news.raw
    # partition (Kafka keeps order per partition; how two partitions interleave is the consumer's choice).
    partition = {key: p for p, key, _ in await records_of(cluster, "news.raw")}
    written = {key: ts for _, key, ts in await records_of(cluster, "news.enriched")}  # the worker's send time
    for launch in launches:
        ahead = [a.id for a in backlog if partition[a.id] == partition[launch.id]]
        assert ahead and all(written[b] <= written[launch.id] for b in ahead), launch.id
    assert sorted(r["id"] for r in enriched) == sorted(a.id for a in [*backlog, *launches])
    assert {a["article_id"] for a in alerts} == {a.id for a in launches}
    assert {(a["kind"], a["modality"], a["actor"]) for a in alerts} == EXPECTED_ALERTS
