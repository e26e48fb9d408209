"""A flood: launch reports in ten times the capacity of ordinary articles, with the priority lane and without.

1. Measures one worker's capacity (ordinary articles/s: a burst, timed until its last enriched record).
2. For each lane setting (on, then off) starts a fresh worker and, for ``--seconds``, feeds ordinary
   articles at ``--factor`` × the capacity, with a launch report (written for the project, as in
   ``bench/latency.py``) every ``--launch-every`` seconds in between; times each launch report from its
   produce to its first alert on ``news.alerts``; then waits for the backlog to drain (the worker's
   group lag back to 0) and checks that every article was enriched (``lost``: articles without an
   enriched record, plus launch reports without an alert).
3. Prints p50/p95/p99 per setting, the peak RSS of the worker (with its analysis process), the drain
   time (end of the flood → lag 0, with the lane on), and ends with one JSON line: ``priority_p99_ms``,
   ``no_priority_p99_ms``, ``peak_rss_mb``, ``drain_s``, ``lost`` (and the rest of the figures).

The flood leaves a backlog of (factor - 1) × seconds of work, which the drain then takes: with the
defaults (10×, 60 s) about nine minutes per setting. ``--seconds 10`` gives the same comparison in
about five minutes in all. Run: ``python bench/flood.py [--seconds S] [--factor F] [--launch-every S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_corpus
from latency import launch_reports, percentile

from wirewatch.agents.priority import launch_candidate
from wirewatch.streams import testing
from wirewatch.streams.broker import EmbeddedBroker, free_port
from wirewatch.streams.lag import LagReader
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings

PARTITIONS = 4


def ordinary_articles(n: int, seed: int, words: int) -> list[Article]:
    """Corpus articles made of its sentences that name no weapon and have no launch word (with a watched
    actor, a sentence with a launch word would be a candidate): the ordinary lane's traffic."""
    out: list[Article] = []
    for i, article in enumerate(make_corpus(n * 3, words=words, seed=seed)):
        sentences = [s for s in article.text.split(". ") if not launch_candidate("", f"{s}. North Korea")]
        candidate = Article.create(". ".join(sentences), url=f"bench://flood/{seed}/{i}", feed="flood")
        if not launch_candidate("", candidate.text):
            out.append(candidate)
        if len(out) == n:
            return out
    raise RuntimeError(f"only {len(out)} ordinary articles out of {n * 3}")


class Run:
    """One worker on its own topics, group and data dir."""

    def __init__(self, bootstrap: str, workdir: Path, lane: bool) -> None:
        tag = uuid.uuid4().hex[:6]
        self.bootstrap = bootstrap
        self.prefix = f"flood{tag}."
        self.app_id = f"flood-{tag}"
        env = testing.worker_env(
            bootstrap,
            self.prefix,
            self.app_id,
            workdir / tag,
            inherit=True,
            WIREWATCH_PARTITIONS=str(PARTITIONS),
            WIREWATCH_LOG_LEVEL="warning",
            WIREWATCH_LAG_INTERVAL="1",
            WIREWATCH_PRIORITY_LANE="true" if lane else "false",
        )
        self.worker = testing.WorkerProcess(env, workdir / tag / "worker.log").start()

    def topic(self, name: str) -> str:
        return self.prefix + name

    async def warm_up(self) -> None:
        warm = launch_reports(4, seed=1)
        await testing.produce(self.bootstrap, self.topic("news.raw"), [(a.id.encode(), a.to_bytes()) for a in warm])
        ids = {a.id for a in warm}
        got = await testing.consume(self.bootstrap, self.topic("news.alerts"), lambda rs: ids <= _ids(rs), 300)
        if not ids <= _ids(got):
            raise RuntimeError(f"no alerts for the warm-up; log: {self.worker.log_path}")

    async def capacity(self, articles: list[Article]) -> float:
        wanted = {a.id for a in articles}
        consumer = asyncio.create_task(
            testing.consume(
                self.bootstrap, self.topic("news.enriched"), lambda rs: wanted <= {r["id"] for r in rs}, 900
            )
        )
        await asyncio.sleep(1.0)
        started = time.time()
        await testing.produce(self.bootstrap, self.topic("news.raw"), [(a.id.encode(), a.to_bytes()) for a in articles])
        done = await consumer
        return len(articles) / (max(r["_received"] for r in done if r["id"] in wanted) - started)

    async def flood(self, ordinary: list[Article], launches: list[Article], rate: float, seconds: float) -> dict:
        """Feed the flood; return launch latencies, drain time, what was lost."""
        launch_ids = {a.id for a in launches}
        alerts = asyncio.create_task(
            testing.consume(
                self.bootstrap,
                self.topic("news.alerts"),
                lambda rs: launch_ids <= _ids(rs),
                timeout=seconds * 20 + 600,
                from_beginning=False,
            )
        )
        await asyncio.sleep(1.0)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        sent_at: dict[str, float] = {}
        raw = self.topic("news.raw")
        try:
            started = time.time()
            tick = 0.1
            produced = 0
            pending = list(launches)
            launch_every = seconds / max(1, len(launches))
            while time.time() - started < seconds:
                due = int((time.time() - started + tick) * rate)
                futures = [
                    await producer.send(raw, key=a.id.encode(), value=a.to_bytes()) for a in ordinary[produced:due]
                ]
                produced = max(produced, min(due, len(ordinary)))
                while pending and time.time() - started >= (len(launches) - len(pending)) * launch_every:
                    article = pending.pop(0)
                    sent_at[article.id] = time.time()
                    futures.append(await producer.send(raw, key=article.id.encode(), value=article.to_bytes()))
                await asyncio.gather(*futures)
                await asyncio.sleep(max(0.0, tick - (time.time() - started) % tick))
            flood_end = time.time()
        finally:
            await producer.stop()
        drain_s = await self.drained(flood_end)
        received = await alerts
        first: dict[str, float] = {}
        for record in received:
            first.setdefault(record["article_id"], record["_received"])
        latencies = [(first[i] - sent_at[i]) * 1000 for i in sent_at if i in first]
        flood_ids = {a.id for a in ordinary[:produced]} | set(sent_at)
        enriched = await self.keys(self.topic("news.enriched"), flood_ids)
        return {
            "ordinary": produced,
            "launches": len(sent_at),
            "latencies": latencies,
            "drain_s": drain_s,
            "lost": len(flood_ids - enriched) + len(set(sent_at) - set(first)),
            "peak_rss_mb": self.worker.peak_rss_mb() or 0.0,
        }

    async def drained(self, since: float) -> float:
        """Seconds from ``since`` until the worker's group has no lag left on its input topics."""
        settings = Settings(broker=self.bootstrap, topic_prefix=self.prefix, app_id=self.app_id)
        async with LagReader(settings) as reader:
            while True:
                snapshot = await reader.read()
                rows = [r for r in snapshot.rows if r.group == self.app_id]
                if rows and sum(r.lag for r in rows) == 0:
                    return snapshot.taken_at - since
                await asyncio.sleep(1.0)

    async def keys(self, topic: str, wanted: set[str]) -> set[str]:
        """The keys on ``topic`` (the enriched article ids; values not parsed), read until ``wanted`` are all
        there or nothing new comes for 5 s (Tansu's end offsets count batches, so they cannot say when)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
            await consumer.seek_to_beginning()
            keys: set[str] = set()
            idle_since = time.monotonic()
            while not wanted <= keys and time.monotonic() - idle_since < 5:
                for messages in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    keys.update(m.key.decode() for m in messages if m.key)
                    idle_since = time.monotonic()
            return keys
        finally:
            await consumer.stop()


def _ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["article_id"] for r in records}


def summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(percentile(latencies, q), 1) for q in (50, 95, 99)}


async def bench(bootstrap: str, workdir: Path, seconds: float, factor: float, launch_every: float, words: int) -> dict:
    measuring = Run(bootstrap, workdir, lane=True)
    try:
        await measuring.warm_up()
        capacity = await measuring.capacity(ordinary_articles(120, seed=11, words=words))
    finally:
        measuring.worker.stop()
    rate = factor * capacity
    print(f"capacity: {capacity:.1f} ordinary articles/s; flood: {rate:.0f}/s for {seconds:.0f} s", flush=True)
    ordinary = ordinary_articles(int(rate * seconds) + 10, seed=12, words=words)
    runs: dict[str, dict] = {}
    for lane in (True, False):
        name = "priority" if lane else "no_priority"
        launches = launch_reports(max(2, int(seconds / launch_every)), seed=20 + lane)
        run = Run(bootstrap, workdir, lane=lane)
        try:
            await run.warm_up()
            runs[name] = await run.flood(ordinary, launches, rate, seconds)
        finally:
            run.worker.stop()
        figures = summary(runs[name]["latencies"])
        print(
            f"lane {'on ' if lane else 'off'}: {runs[name]['ordinary']} ordinary + {runs[name]['launches']} launch "
            f"reports; launch ingest→alert p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
            f"p99 {figures['p99_ms']} ms; drain {runs[name]['drain_s']:.0f} s; peak RSS "
            f"{runs[name]['peak_rss_mb']:.0f} MB; lost {runs[name]['lost']}",
            flush=True,
        )
    on, off = runs["priority"], runs["no_priority"]
    return {
        "priority_p99_ms": summary(on["latencies"])["p99_ms"],
        "no_priority_p99_ms": summary(off["latencies"])["p99_ms"],
        "peak_rss_mb": round(max(on["peak_rss_mb"], off["peak_rss_mb"]), 1),
        "drain_s": round(on["drain_s"], 1),
        "lost": on["lost"] + off["lost"],
        "capacity_aps": round(capacity, 2),
        "flood_aps": round(rate, 1),
        "seconds": seconds,
        "priority": summary(on["latencies"]),
        "no_priority": summary(off["latencies"]),
        "no_priority_drain_s": round(off["drain_s"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the flood (default 60)")
    parser.add_argument("--factor", type=float, default=10.0, help="flood rate / capacity (default 10)")
    parser.add_argument("--launch-every", type=float, default=2.0, help="seconds between launch reports (default 2)")
    parser.add_argument("--words", type=int, default=300, help="words per ordinary article (default 300)")
    args = parser.parse_args()
    random.seed(0)
    with tempfile.TemporaryDirectory(prefix="wirewatch-flood-") as tmp:
        workdir = Path(tmp)
        with EmbeddedBroker(Settings(), port=free_port(), log_file=workdir / "tansu.log") as broker:
            figures = asyncio.run(
                bench(broker.bootstrap, workdir, args.seconds, args.factor, args.launch_every, args.words)
            )
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
