"""Chaos: three workers on three Apache Kafka brokers lose members again and again under load.

2,000 articles (100 launch reports of 30 known incidents among 1,900 ordinary ones, all written for the
project) are produced over a minute and a half while, for 100 s, every 20–40 s (seeded), a random worker is SIGKILLed
and started again, and one broker is stopped and started again once. Rebalances land in the middle of
batches, and the alert agent's incident table is recovered from its changelog by the next owner. Then,
with every worker stopped, the topics are read to their end:

* every article has its enriched record in news.enriched (by id); a duplicate is allowed only as a
  re-delivery identical to the first but for its processing time; duplicates are counted and printed;
* no dead letter;
* every launch report has its alert (no alert lost); re-sent alerts have the same alert_id;
* news.incidents holds exactly the 30 expected incidents, each once (none split in two), with its final
  state: all its articles, its alert count, actor, kind and modality.

Run it with ``pytest -q -s -m failure tests/failure/test_chaos.py`` (``-s`` prints the figures); about 5
minutes.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from tools.kafka.harness import FAST_FAILOVER, KafkaCluster
from wirewatch.streams import testing
from wirewatch.streams.broker import ensure_topics
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings
from wirewatch.streams.testing import WorkerProcess
from wirewatch.streams.topics import ALERTS, CATALOG, DEADLETTER, ENRICHED, INCIDENTS, RAW

from .test_broker_failover import read_all, without_timing

pytestmark = [pytest.mark.failure, pytest.mark.timeout(600)]

BROKERS = 3
WORKERS = 3
PARTITIONS = 6
APP_ID = "wirewatch-chaos"
INCIDENTS_N = 30
LAUNCHES = 100
ARTICLES = 2000
PRODUCE_S = 90.0  # the articles are spread over this long
CHAOS_S = 100.0  # kills happen this long from the first article on
SEED = 20261206


# ---- articles (written for the project) -----------------------------------------------------------------
#: 15 actors × 2 kind families (short-range, cruise): 30 incidents that no report can join to another,
#: all on one day (incidents are kept for 4 windows after the newest report of their actor, so reports
#: weeks apart arriving out of order would open a new incident: not what this test is about).
ACTORS = (
    "North Korea", "South Korea", "Iran", "Russia", "China", "India", "Pakistan", "Israel", "France", "Japan",
    "Taiwan", "Ukraine", "Syria", "Turkey", "Saudi Arabia",
)  # fmt: skip
WEAPONS = (("srbm", "a short-range ballistic missile"), ("cruise", "a cruise missile"))


def incident_of(incident: int) -> tuple[str, str, str]:
    """(actor, kind, weapon phrase) of incident ``incident``."""
    kind, weapon = WEAPONS[incident % len(WEAPONS)]
    return ACTORS[incident // len(WEAPONS)], kind, weapon


def launch_report(incident: int, report: int) -> Article:
    """Report ``report`` of incident ``incident``, published an hour after the one before."""
    actor, _, weapon = incident_of(incident)
    return Article.create(
        f"{actor} fired {weapon} toward the sea on Monday, officials said in report {incident}-{report}. "
        f"The missile flew about {300 + incident} km.",
        feed=f"outlet{report}",
        title=f"Launch report {incident}-{report}",
        published_at=f"2023-05-08T{8 + report:02d}:00:00Z",
    )


def ordinary(i: int) -> Article:
    return Article.create(
        f"Parliament in Seoul debated bill number {i} on farm subsidies on Tuesday. "
        "The finance ministry in Tokyo welcomed the trade figures.",
        feed="chaos",
    )


def corpus(rng: random.Random) -> tuple[list[Article], dict[int, list[Article]]]:
    """2,000 articles in a seeded order, and the launch reports of each incident (3 or 4 each)."""
    fours = LAUNCHES - 3 * INCIDENTS_N
    per_incident = [4] * fours + [3] * (INCIDENTS_N - fours)
    incidents = {g: [launch_report(g, k) for k in range(n)] for g, n in enumerate(per_incident)}
    launches = [a for reports in incidents.values() for a in reports]
    assert len(launches) == LAUNCHES
    articles = [ordinary(i) for i in range(ARTICLES - len(launches))] + launches
    rng.shuffle(articles)
    return articles, incidents


# ---- the cluster and the workers ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kafka3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(brokers=BROKERS, data_dir=tmp_path_factory.mktemp("chaos"), extra_properties=FAST_FAILOVER)
    with cluster:
        yield cluster


class Pool:
    """Three workers of one group; a killed one is started again with the same environment."""

    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.envs = [
            testing.worker_env(
                bootstrap,
                "",
                APP_ID,
                tmp_path / f"data{n}",
                WIREWATCH_PARTITIONS=str(PARTITIONS),
                WIREWATCH_REPLICATION_FACTOR=str(BROKERS),
                WIREWATCH_BATCH_SIZE="8",
                WIREWATCH_BATCH_WITHIN="0.1",
                WIREWATCH_REBALANCE_TIMEOUT="3",
                WIREWATCH_SESSION_TIMEOUT="10",
                WIREWATCH_SHUTDOWN_TIMEOUT="10",
            )
            for n in range(WORKERS)
        ]
        self.workers = [self.start(n) for n in range(WORKERS)]
        self.kills = 0

    def start(self, n: int) -> WorkerProcess:
        return WorkerProcess(self.envs[n], self.tmp_path / f"worker{n}.log").start()

    def kill_and_restart(self, n: int) -> None:
        process = self.workers[n].process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1
        self.workers[n] = self.start(n)

    def check_alive(self) -> None:
        for worker in self.workers:
            if worker.process is not None and worker.process.poll() is not None:
                pytest.fail(f"a worker exited with {worker.process.returncode}:\n{worker.log()[-4000:]}")

    async def ready(self, timeout: float = 180.0) -> float:
        """Seconds until every worker's /readyz says ready (partitions assigned, agents running)."""
        t0 = time.monotonic()
        async with aiohttp.ClientSession() as session:
            for worker in self.workers:
                url = f"http://127.0.0.1:{worker.env['WIREWATCH_WEB_PORT']}/readyz"
                while True:
                    self.check_alive()
                    try:
                        async with session.get(url) as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.monotonic() - t0 > timeout:
                        pytest.fail(f"{url} not ready after {timeout:.0f}s:\n{worker.log()[-3000:]}")
                    await asyncio.sleep(0.5)
        return time.monotonic() - t0

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("worker*.log")))


async def positions(bootstrap: str, topic: str, keys: set[str]) -> list[tuple[int, int]]:
    """Where the records with these keys are on ``topic``: to find a lost article in the workers' logs."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[tuple[int, int]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                found += [(m.partition, m.offset) for m in messages if (m.key or b"").decode() in keys]
        return sorted(found)
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, topic: str, partitions: set[int]) -> dict[int, int | None]:
    """The workers' group's committed offsets on ``topic``: a lost record below its partition's was committed
    over (lost for good); one at or above it was never delivered, and its partition's commits wait there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=APP_ID, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in sorted(partitions)}
    finally:
        await consumer.stop()


async def produce_spread(bootstrap: str, articles: list[Article], seconds: float) -> None:
    """Produce in chunks spread over ``seconds``; a chunk that fails (a broker going away) is sent again."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=15000)
    await producer.start()
    try:
        chunk = 20
        pause = seconds / (len(articles) / chunk)
        for start in range(0, len(articles), chunk):
            batch = articles[start : start + chunk]
            while True:
                try:
                    futures = [await producer.send(RAW, key=a.id.encode(), value=a.to_bytes()) for a in batch]
                    await asyncio.gather(*futures)
                    break
                except KafkaError:
                    await asyncio.sleep(1.0)  # at least once: a re-sent article has the same id
            await asyncio.sleep(pause)
    finally:
        await producer.stop()


# ---- the test ----------------------------------------------------------------------------------------------
async def test_chaos_kills_and_a_broker_restart_lose_nothing(kafka3: KafkaCluster, tmp_path: Path) -> None:
    t_test = time.monotonic()
    rng = random.Random(SEED)
    bootstrap = kafka3.bootstrap
    settings = Settings(broker=f"kafka://{bootstrap}", partitions=PARTITIONS, replication_factor=BROKERS, app_id=APP_ID)
    await ensure_topics(
        settings,
        extra={settings.topic(s.name): {**s.config(settings), "min.insync.replicas": "2"} for s in CATALOG},
    )
    articles, incidents = corpus(rng)
    every_id = {a.id for a in articles}
    assert len(every_id) == ARTICLES

    pool = Pool(bootstrap, tmp_path)
    try:
        print(f"\n[chaos] {WORKERS} workers ready in {await pool.ready():.1f}s")
        t0 = time.monotonic()
        producing = asyncio.create_task(produce_spread(bootstrap, articles, PRODUCE_S))
        broker_victim = rng.randint(1, BROKERS)
        broker_done = False
        events: list[str] = []
        while time.monotonic() - t0 < CHAOS_S:
            await asyncio.sleep(rng.uniform(20, 40))
            pool.check_alive()
            victim = rng.randrange(WORKERS)
            pool.kill_and_restart(victim)
            events.append(f"{time.monotonic() - t0:.0f}s kill worker {victim}")
            if not broker_done and time.monotonic() - t0 > 40:
                # Stopped cleanly (SIGTERM) and started again from the main thread: the harness ties a
                # broker's life to the thread that started it.
                kafka3.kill(broker_victim, sig=signal.SIGTERM)
                events.append(f"{time.monotonic() - t0:.0f}s stop broker {broker_victim}")
                await asyncio.sleep(10)
                kafka3.restart(broker_victim)
                events.append(f"{time.monotonic() - t0:.0f}s broker {broker_victim} back")
                broker_done = True
        await producing
        print(f"[chaos] {'; '.join(events)}")
        assert broker_done and pool.kills >= 3, events

        launch_ids = {a.id for reports in incidents.values() for a in reports}

        def covers(ids: set[str], field: str) -> Any:
            last_print = [time.monotonic()]

            def done(records: list[dict[str, Any]]) -> bool:
                pool.check_alive()
                seen = ids & {r[field] for r in records}
                if time.monotonic() - last_print[0] > 15:
                    print(f"[chaos] {time.monotonic() - t0:.0f}s: {len(seen)} of {len(ids)} ({field})", flush=True)
                    last_print[0] = time.monotonic()
                return len(seen) == len(ids)

            return done

        await testing.consume(bootstrap, ENRICHED, covers(every_id, "id"), timeout=240)
        await testing.consume(bootstrap, ALERTS, covers(launch_ids, "article_id"), timeout=120)
        print(f"[chaos] all {ARTICLES} articles enriched {time.monotonic() - t0:.0f}s after the first was produced")
    finally:
        codes = [worker.stop() for worker in pool.workers]
    assert codes == [0] * WORKERS, pool.logs()[-4000:]

    # -- everything on the topics, read to their end offsets --------------------------------------------------
    enriched = await read_all(bootstrap, ENRICHED)
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in enriched:
        by_id[record["id"]].append(record)
    lost = every_id - set(by_id)
    if lost:
        where = await positions(bootstrap, RAW, lost)
        held = await committed_offsets(bootstrap, RAW, {p for p, _offset in where})
        pytest.fail(f"{len(lost)} lost, at (partition, offset) of {RAW}: {where}; committed offsets there: {held}")
    duplicated = {i: rs for i, rs in by_id.items() if len(rs) > 1}
    for article_id, copies in duplicated.items():
        assert all(without_timing(c) == without_timing(copies[0]) for c in copies), article_id

    letters = await read_all(bootstrap, DEADLETTER)
    assert letters == [], letters[:3]

    alerts = await read_all(bootstrap, ALERTS)
    alerted = {a["article_id"] for a in alerts}
    assert launch_ids <= alerted, f"alerts lost for {len(launch_ids - alerted)} launch reports"
    assert alerted <= launch_ids  # the ordinary articles raise nothing
    per_article = defaultdict(set)
    for alert in alerts:
        per_article[alert["article_id"]].add(alert["alert_id"])
    assert all(len(ids) == 1 for ids in per_article.values()), "a re-sent alert must keep its alert_id"
    resent = sum(Counter(a["alert_id"] for a in alerts).values()) - len({a["alert_id"] for a in alerts})

    latest: dict[str, dict[str, Any]] = {}
    for record in await read_all(bootstrap, INCIDENTS):
        latest[record["incident_id"]] = record  # compacted: the last record per key is the state
    owner: dict[str, str] = {}
    for incident in latest.values():
        for article_id in incident["article_ids"]:
            assert article_id not in owner, f"article {article_id} in two incidents: split"
            owner[article_id] = incident["incident_id"]
    assert len(latest) == INCIDENTS_N, sorted((i["first_seen"], i["article_ids"]) for i in latest.values())
    for g, reports in incidents.items():
        ids = {owner.get(a.id) for a in reports}
        assert len(ids) == 1 and None not in ids, f"incident {g} split or missing: {ids}"
        state = latest[ids.pop()]  # type: ignore[arg-type]
        assert set(state["article_ids"]) == {a.id for a in reports}
        assert state["alert_count"] == len(reports), state
        actor, kind, _ = incident_of(g)
        assert (state["actor"], state["kind"], state["modality"]) == (actor, kind, "occurred"), state

    log = pool.logs()
    print(
        f"[chaos] {pool.kills} worker kills, 1 broker restart; {len(enriched)} enriched records for {ARTICLES} "
        f"articles ({len(duplicated)} re-delivered, identical but for processing time); {len(alerts)} alerts for "
        f"{len(launch_ids)} launch reports ({resent} re-sent, same alert_id); {len(latest)} incidents, none split; "
        f"'Traceback' in the logs {log.count('Traceback')} times; test {time.monotonic() - t_test:.0f}s"
    )
