"""``wirewatch lag`` against a real broker: its rows match the broker's committed and end offsets."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from wirewatch.streams.broker import ensure_topics
from wirewatch.streams.settings import Settings

from .conftest import Cluster

pytestmark = pytest.mark.integration


async def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))  # manual assignment: commits without joining the group
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def produce_batch(bootstrap: str, topic: str, count: int) -> dict[TopicPartition, int]:
    """Produce ``count`` records in one batch per partition; the true end offsets from the acks.

    (The acks, not ListOffsets: Tansu lists the end of a partition as the last batch's base offset + 1.)
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=f"k{n}".encode(), value=b"{}") for n in range(count)]
        sent = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    ends: dict[TopicPartition, int] = {}
    for meta in sent:
        tp = TopicPartition(topic, meta.partition)
        ends[tp] = max(ends.get(tp, 0), meta.offset + 1)
    return ends


async def committed_offsets(bootstrap: str, group: str, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    """The group's committed offsets as its own coordinator reports them to a member."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()


async def test_lag_cli_matches_committed_and_end_offsets(cluster: Cluster) -> None:
    settings = Settings(
        broker=f"kafka://{cluster.bootstrap}",
        topic_prefix=cluster.prefix,
        app_id=cluster.app_id,
        partitions=2,
    )
    await ensure_topics(settings)
    raw, alerts = cluster.topic("news.raw"), cluster.topic("news.alerts")
    ends = await produce_batch(cluster.bootstrap, raw, 9)
    alert_ends = await produce_batch(cluster.bootstrap, alerts, 5)
    raw_tps = [TopicPartition(raw, 0), TopicPartition(raw, 1)]
    for tp in raw_tps:
        ends.setdefault(tp, 0)
    assert sum(ends.values()) == 9

    # The app's own group committed part of partition 0 only; a subscriber group is one record behind.
    own_offset = max(0, ends[raw_tps[0]] - 2)
    await commit(cluster.bootstrap, cluster.app_id, {raw_tps[0]: own_offset})
    siem = f"{cluster.app_id}-siem"
    alert_tp = max(alert_ends, key=lambda tp: alert_ends[tp])  # a partition that holds records
    await commit(cluster.bootstrap, siem, {alert_tp: alert_ends[alert_tp] - 1})

    result = cluster.cli("lag", "--json", "--group", siem)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = orjson.loads(result.stdout)
    by_key = {(r["group"], r["topic"], r["partition"]): r for r in rows}

    own_committed = await committed_offsets(cluster.bootstrap, cluster.app_id, raw_tps)
    assert own_committed[raw_tps[0]] == own_offset and own_committed[raw_tps[1]] is None
    for tp in raw_tps:
        row = by_key[(cluster.app_id, raw, tp.partition)]  # both input partitions, committed or not
        assert row["committed"] == own_committed[tp]
        assert row["end"] == ends[tp]
        assert row["lag"] == ends[tp] - (own_committed[tp] or 0)

    siem_committed = await committed_offsets(cluster.bootstrap, siem, [alert_tp])
    siem_row = by_key[(siem, alerts, alert_tp.partition)]
    assert siem_row["committed"] == siem_committed[alert_tp] == alert_ends[alert_tp] - 1
    assert siem_row["end"] == alert_ends[alert_tp]
    assert siem_row["lag"] == 1
    # A group lists only what it committed: the subscriber never read news.raw.
    assert not any(g == siem and t == raw for g, t, _ in by_key)

    table = cluster.cli("lag", "--group", siem)
    assert table.returncode == 0, table.stderr[-2000:]
    assert siem in table.stdout and raw in table.stdout
    total = sum(r["lag"] for r in rows)
    assert f"total lag: {total}" in table.stdout

    nonzero = orjson.loads(cluster.cli("lag", "--json", "--nonzero", "--group", siem).stdout)
    assert nonzero and all(r["lag"] > 0 for r in nonzero)
