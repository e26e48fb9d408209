"""A broker dies mid-stream on a 3-broker Apache Kafka cluster, and a real worker loses nothing.

Everything is real: three KRaft brokers from the native harness (``FAST_FAILOVER``), one ``wirewatch run``
worker, aiokafka clients. The test SIGKILLs the broker that coordinates the worker's consumer group and/or
leads partitions of news.raw, keeps producing while it is down, checks that the pipeline finishes the
work *before* the broker comes back (leadership really failed over), restarts the broker and checks:
every article enriched, duplicates (if any) identical, the seed's two alerts exactly once, no dead
letters, a healthy worker, and the broker back in every ISR.

Run it with ``pytest -q -s -m failure tests/failure`` (``-s`` shows the recovery figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from tools.kafka.harness import FAST_FAILOVER, LOOPBACK, KafkaCluster, probe
from wirewatch.streams import testing
from wirewatch.streams.broker import ensure_topics
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings
from wirewatch.streams.testing import WorkerProcess
from wirewatch.streams.topics import ALERTS, CATALOG, DEADLETTER, ENRICHED, RAW

pytestmark = pytest.mark.failure

BROKERS = 3
PARTITIONS = 2
MIN_ISR = "2"
APP_ID = "wirewatch-failover"
HALF = 30  # articles per half: 60 in all, the seed among the second half
LAUNCH_SLOTS = (4, 14, 24)  # where the launch reports sit in each half
# Fields of an EnrichedArticle that legitimately differ when an article is enriched twice.
TIMING_FIELDS = ("ms", "batch")


# ---- articles -------------------------------------------------------------------------------------


def launch_report(i: int) -> Article:
    """A short launch report that yields exactly one alert: each is published months after the previous
    one, so none joins another's incident (48 h window) or the seed's (2019)."""
    return Article.create(
        f"North Korea fired a short-range ballistic missile toward the Sea of Japan on Monday, South Korea's "
        f"Joint Chiefs of Staff said in report {i}. The missile flew about {300 + 10 * i} km.",
        feed="failover",
        title=f"Launch report {i}",
        published_at=f"2024-{1 + i:02d}-10T08:00:00Z",
    )


def ordinary(i: int) -> Article:
    """A short article that raises nothing."""
    return Article.create(
        f"Parliament in Seoul debated bill number {i} on farm subsidies on Tuesday. "
        "The finance ministry in Tokyo welcomed the trade figures.",
        feed="failover",
    )


def half(launches: list[Article], fillers: list[Article]) -> list[Article]:
    """``fillers`` with ``launches`` inserted at LAUNCH_SLOTS, so alerts flow throughout the half."""
    articles = list(fillers)
    for slot, launch in zip(LAUNCH_SLOTS, launches, strict=False):
        articles.insert(slot, launch)
    return articles


def as_records(articles: list[Article]) -> list[tuple[bytes | None, bytes | None]]:
    return [(a.id.encode(), a.to_bytes()) for a in articles]


# ---- cluster inspection (aiokafka admin) ----------------------------------------------------------


@contextlib.asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def retrying(ask: Callable[[AIOKafkaAdminClient], Any], bootstrap: str, timeout: float = 30.0) -> Any:
    """``await ask(admin)`` with a fresh admin client until it succeeds: while a broker is down, a request
    sent to it fails until the client's metadata drops it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with admin_client(bootstrap) as admin:
                return await ask(admin)
        except (KafkaError, OSError):
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.3)


async def layout(bootstrap: str) -> dict[str, list[dict[str, Any]]]:
    """Partitions (leader, replicas, isr) of every wirewatch topic: the catalog's and the worker's own.

    The cluster is this test's alone, so that is every topic but Kafka's internal ``__`` ones.
    """

    async def ask(admin: AIOKafkaAdminClient) -> dict[str, list[dict[str, Any]]]:
        topics = await admin.describe_topics()
        return {t["topic"]: t["partitions"] for t in topics if not t["topic"].startswith("__")}

    return await retrying(ask, bootstrap)


async def topic_config(bootstrap: str, topics: list[str], name: str) -> dict[str, str | None]:
    """The effective value of config ``name`` of each topic (topic override or broker default)."""

    async def ask(admin: AIOKafkaAdminClient) -> dict[str, str | None]:
        resources = [ConfigResource(ConfigResourceType.TOPIC, t, {name: None}) for t in topics]
        values: dict[str, str | None] = {}
        for response in await admin.describe_configs(resources):
            for resource in response.to_object()["resources"]:
                entries = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
                values[resource["resource_name"]] = entries.get(name)
        return values

    return await retrying(ask, bootstrap)


async def coordinator(bootstrap: str, group: str) -> int:
    async def ask(admin: AIOKafkaAdminClient) -> int:
        return await admin.find_coordinator(group)

    return await retrying(ask, bootstrap)


async def wait_layout(bootstrap: str, done: Callable[[dict[str, list[dict[str, Any]]]], bool], timeout: float) -> float:
    """Seconds until ``done(layout)`` holds; fails the test after ``timeout``."""
    t0 = time.monotonic()
    while True:
        current = await layout(bootstrap)
        if done(current):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"cluster layout not as expected after {timeout:.0f}s: {current}")
        await asyncio.sleep(0.2)


# ---- reading topics --------------------------------------------------------------------------------


async def read_until(
    bootstrap: str, topic: str, worker: WorkerProcess, until: Callable[[list[dict[str, Any]]], bool], timeout: float
) -> list[dict[str, Any]]:
    """Read ``topic`` from the beginning until ``until(records)``; a dead worker fails the test at once."""

    def until_or_dead(records: list[dict[str, Any]]) -> bool:
        if worker.process is not None and worker.process.poll() is not None:
            pytest.fail(f"worker exited with {worker.process.returncode}:\n{worker.log()[-4000:]}")
        return until(records)

    records = await testing.consume(bootstrap, topic, until_or_dead, timeout)
    if not until(records):
        pytest.fail(
            f"{topic}: condition not met within {timeout:.0f}s ({len(records)} records); "
            f"worker log tail:\n{worker.log()[-3000:]}"
        )
    return records


async def behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """True while ``consumer`` has not reached ``ends`` on some partition."""
    return any([await consumer.position(tp) < end for tp, end in ends.items()])


async def read_all(bootstrap: str, topic: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every record of ``topic`` up to its end offsets now, with ``_key`` and ``_ts`` (its producer's
    timestamp, epoch seconds): unlike :func:`read_until` this sees late duplicates too."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=16_000_000,
        max_partition_fetch_bytes=16_000_000,
    )
    await consumer.start()
    try:
        # As wirewatch.streams.testing does: topics() would fetch metadata without keeping it.
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer._client.cluster.partitions_for_topic(topic) or ())]
        assert tps, f"no partitions for {topic}"
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while await behind(consumer, ends):
            assert time.monotonic() < deadline, f"{topic}: could not read up to {ends} in {timeout:.0f}s"
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                # Records written after ``ends`` was read are left out: the snapshot is what is checked.
                records.extend(
                    orjson.loads(m.value) | {"_key": m.key, "_ts": m.timestamp / 1000}
                    for m in messages
                    if m.offset < ends[TopicPartition(topic, m.partition)]
                )
        return records
    finally:
        await consumer.stop()


def alert_ids_by_article(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = defaultdict(set)
    for record in records:
        ids[record["article_id"]].add(record["alert_id"])
    return ids


def without_timing(record: dict[str, Any]) -> dict[str, Any]:
    """An EnrichedArticle without what differs between two enrichments of the same article."""
    processing = {k: v for k, v in (record.get("processing") or {}).items() if k not in TIMING_FIELDS}
    return {k: v for k, v in record.items() if k != "_ts"} | {"processing": processing}


# ---- the test --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kafka3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """Three real brokers on free loopback ports, fenced 3 s after a crash instead of 9 s."""
    cluster = KafkaCluster(brokers=BROKERS, data_dir=tmp_path_factory.mktemp("kafka3"), extra_properties=FAST_FAILOVER)
    with cluster:
        print(f"\n[failover] {BROKERS} brokers ready in {cluster.startup_seconds:.1f}s: {cluster.bootstrap}")
        yield cluster


async def test_a_killed_broker_loses_nothing(kafka3: KafkaCluster, tmp_path: Path, seed_text: str) -> None:
    t_test = time.monotonic()
    bootstrap = kafka3.bootstrap
    settings = Settings(broker=f"kafka://{bootstrap}", partitions=PARTITIONS, replication_factor=BROKERS, app_id=APP_ID)
    # The topic catalog (streams/topics.py) has no min.insync.replicas setting, but ensure_topics' ``extra``
    # replaces a topic's config by name: give each catalog topic its own config plus min.insync.replicas.
    await ensure_topics(
        settings,
        extra={
            settings.topic(spec.name): {**spec.config(settings), "min.insync.replicas": MIN_ISR} for spec in CATALOG
        },
    )

    seed = Article.create(seed_text, feed="seed", title="Russia urges diplomacy", published_at="2019-12-12T10:00:00Z")
    first = half([launch_report(i) for i in range(3)], [ordinary(i) for i in range(HALF - 3)])
    second = half([seed, *(launch_report(i) for i in range(3, 5))], [ordinary(i) for i in range(100, 100 + HALF - 3)])
    after = [launch_report(5), ordinary(200)]  # produced once the broker is back
    everything = first + second + after
    every_id = {a.id for a in everything}
    assert len(every_id) == 2 * HALF + len(after)
    expected_alerts = {a.id: 1 for a in everything if a.title.startswith("Launch report")} | {seed.id: 2}

    env = testing.worker_env(
        bootstrap,
        "",
        APP_ID,
        tmp_path / "data",
        WIREWATCH_PARTITIONS=str(PARTITIONS),
        WIREWATCH_REPLICATION_FACTOR=str(BROKERS),
        WIREWATCH_BATCH_SIZE="4",  # many small batches, so offsets are committed across the kill
        WIREWATCH_BATCH_WITHIN="0.1",
        WIREWATCH_REBALANCE_TIMEOUT="3",
        WIREWATCH_SESSION_TIMEOUT="10",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    t_worker = time.monotonic()
    try:
        # -- 1. first half, all brokers up ---------------------------------------------------------
        await testing.produce(bootstrap, RAW, as_records(first))
        first_ids = {a.id for a in first}
        await read_until(bootstrap, ENRICHED, worker, lambda rs: first_ids <= {r["id"] for r in rs}, 120)
        print(
            f"[failover] worker started; first half ({len(first)}) enriched "
            f"{time.monotonic() - t_worker:.1f}s after the worker was launched"
        )

        # Every topic, the worker's internal ones included, has 3 replicas and min.insync.replicas=2 (the
        # catalog's from the override above, the internal ones from the harness's broker default).
        topics = await layout(bootstrap)
        assert {settings.topic(spec.name) for spec in CATALOG} <= set(topics)
        assert len(topics) > len(CATALOG), f"the worker's internal topics are missing: {sorted(topics)}"
        assert all(len(p["replicas"]) == BROKERS for parts in topics.values() for p in parts), topics
        assert set((await topic_config(bootstrap, sorted(topics), "min.insync.replicas")).values()) == {MIN_ISR}

        # -- 2. the victim: the broker with the most roles, counting each news.raw partition it leads and
        # coordinating the worker's group (whose loss forces offset commits and heartbeats to move too);
        # ties go to the one leading more of news.raw. The choice is printed.
        coord = await coordinator(bootstrap, APP_ID)
        raw_leads = Counter(p["leader"] for p in topics[settings.topic(RAW)])
        victim = max(range(1, BROKERS + 1), key=lambda n: (raw_leads[n] + (n == coord), raw_leads[n], n == coord))
        led = sorted(f"{t}[{p['partition']}]" for t, parts in topics.items() for p in parts if p["leader"] == victim)
        print(
            f"[failover] killing broker {victim}: group coordinator={victim == coord} (coordinator is {coord}), "
            f"leader of {led}"
        )

        # -- 3. SIGKILL it and keep producing the second half while it is down ----------------------
        t_kill, wall_kill = time.monotonic(), time.time()
        kafka3.kill(victim)

        async def produce_spread() -> float:
            # Three chunks a second apart: the first meets the dead leader before the controller fences it.
            for start in range(0, len(second), 10):
                if start:
                    await asyncio.sleep(1.0)
                await testing.produce(bootstrap, RAW, as_records(second[start : start + 10]))
            return time.monotonic() - t_kill

        producing = asyncio.create_task(produce_spread())
        moved = await wait_layout(
            bootstrap, lambda ts: all(p["leader"] not in (victim, -1) for ps in ts.values() for p in ps), 30
        )
        produced = await producing

        all_ids = {a.id for a in first + second}
        await read_until(bootstrap, ENRICHED, worker, lambda rs: all_ids <= {r["id"] for r in rs}, 90)
        t_enriched = time.monotonic()
        before_restart = {a: n for a, n in expected_alerts.items() if a in all_ids}
        await read_until(
            bootstrap,
            ALERTS,
            worker,
            lambda rs: all(len(alert_ids_by_article(rs)[a]) >= n for a, n in before_restart.items()),
            60,
        )
        t_alerted = time.monotonic()
        # The work was done by the two survivors: the victim is still down.
        assert not kafka3.node(victim).alive()
        print(
            f"[failover] after the kill: leadership off broker {victim} in {moved:.1f}s; second half acked "
            f"by {produced:.1f}s; all {len(all_ids)} articles seen enriched by {t_enriched - t_kill:.1f}s, "
            f"all their alerts by {t_alerted - t_kill:.1f}s (while broker {victim} was down)"
        )

        # -- 4. restart it: it serves, sees the whole cluster and rejoins every ISR -----------------
        t_restart = time.monotonic()
        kafka3.restart(victim)  # in the main thread: the harness ties the broker's life to the forking thread
        restarted = time.monotonic() - t_restart
        info = probe(LOOPBACK, kafka3.node(victim).port)
        assert info is not None, kafka3.node(victim).log_tail()
        assert {b[0] for b in info.brokers} == set(range(1, BROKERS + 1)), info
        in_sync = await wait_layout(bootstrap, lambda ts: all(victim in p["isr"] for ps in ts.values() for p in ps), 60)
        print(
            f"[failover] broker {victim} restarted and serving in {restarted:.1f}s, "
            f"back in every ISR {in_sync:.1f}s later; {time.monotonic() - t_kill:.1f}s after the kill"
        )

        # The pipeline goes on with the broker back.
        await testing.produce(bootstrap, RAW, as_records(after))
        await read_until(bootstrap, ENRICHED, worker, lambda rs: every_id <= {r["id"] for r in rs}, 60)
        await read_until(
            bootstrap,
            ALERTS,
            worker,
            lambda rs: all(len(alert_ids_by_article(rs)[a]) >= n for a, n in expected_alerts.items()),
            60,
        )

        # -- 5. a healthy worker -----------------------------------------------------------------------
        assert worker.process is not None and worker.process.poll() is None, worker.log()[-4000:]
        assert "Traceback" not in worker.log(), worker.log()[-6000:]
    finally:
        code = worker.stop()
    assert code == 0, worker.log()[-4000:]

    # -- 6. everything on the topics, read to their end offsets once the worker has stopped -----------
    enriched = await read_all(bootstrap, ENRICHED)
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in enriched:
        by_id[record["id"]].append(record)
    missing = every_id - set(by_id)
    assert not missing, f"{len(missing)} articles lost: {sorted(missing)[:5]}"
    assert set(by_id) == every_id
    duplicated = {i: rs for i, rs in by_id.items() if len(rs) > 1}
    for article_id, copies in duplicated.items():
        # At least once allows a re-delivery; the output must then be the same record.
        assert all(without_timing(c) == without_timing(copies[0]) for c in copies), article_id

    alerts = await read_all(bootstrap, ALERTS)
    counts = Counter(a["alert_id"] for a in alerts)
    assert all(n == 1 for n in counts.values()), {i: n for i, n in counts.items() if n > 1}
    per_article = alert_ids_by_article(alerts)
    assert {a: len(ids) for a, ids in per_article.items()} == expected_alerts
    seed_alerts = [a for a in alerts if a["article_id"] == seed.id]
    assert {a["modality"] for a in seed_alerts} == {"occurred", "possible"}
    assert all(a["actor"] == "North Korea" for a in seed_alerts)

    letters = await read_all(bootstrap, DEADLETTER)
    assert letters == [], letters[:3]

    # When the worker wrote them (producer timestamps), relative to the kill.
    second_ids = {a.id for a in second}
    written = sorted(r["_ts"] - wall_kill for r in enriched if r["id"] in second_ids)
    seed_written = max(a["_ts"] for a in seed_alerts) - wall_kill
    print(
        f"[failover] second half enriched from {written[0]:.1f}s to {written[-1]:.1f}s after the kill; "
        f"the seed's alerts written at {seed_written:.1f}s"
    )

    print(
        f"[failover] {len(enriched)} enriched records for {len(every_id)} articles ({len(duplicated)} "
        f"re-delivered, identical), {len(alerts)} alerts, each alert_id once; "
        f"test body {time.monotonic() - t_test:.1f}s"
    )
