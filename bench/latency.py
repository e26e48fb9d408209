"""Ingest → alert latency through the embedded broker with one worker.

First measures the worker's capacity (articles/s for a burst of launch reports), then feeds launch
reports at a stated rate (default: half the measured capacity) and prints p50/p95/p99 of the time from
each article's produce to its alert's arrival at a consumer of ``news.alerts``. Ends with one JSON line.
Run: ``python bench/latency.py [--articles N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from wirewatch.streams import testing
from wirewatch.streams.broker import EmbeddedBroker, free_port
from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings

STATES = ["North Korea", "Iran", "Russia", "China", "Pakistan"]
TEMPLATES = [
    "{state} fired {n} ballistic missiles toward the sea on {day}, officials said. The missiles flew about "
    "{km} kilometres. Neighbouring governments condemned the launch as a provocation. Report {tag}.",
    "{state} test-fired an intercontinental ballistic missile on {day}, the defence ministry said, in the "
    "latest of a series of launches. The missile reached an altitude of {km} kilometres. Report {tag}.",
    "{state} launched {n} cruise missiles on {day} during a military exercise, state media reported. Report {tag}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def launch_reports(n: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    articles = []
    for i in range(n):
        text = rng.choice(TEMPLATES).format(
            state=rng.choice(STATES),
            n=rng.choice(["two", "three"]),
            day=rng.choice(DAYS),
            km=rng.randint(200, 3000),
            tag=uuid.uuid4().hex[:8],
        )
        articles.append(Article.create(text, url=f"bench://latency/{seed}/{i}", feed=f"feed{i % 5}"))
    return articles


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(bootstrap: str, workdir: Path, articles: int, rate: float | None) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6]
    prefix = f"lat{tag}."
    env = testing.worker_env(
        bootstrap,
        prefix,
        f"lat-{tag}",
        workdir / tag,
        inherit=True,
        WIREWATCH_PARTITIONS="4",
        WIREWATCH_LOG_LEVEL="warning",
    )
    worker = testing.WorkerProcess(env, workdir / tag / "worker.log").start()
    raw, alerts = prefix + "news.raw", prefix + "news.alerts"
    try:
        warm = launch_reports(8, seed=1)
        await testing.produce(bootstrap, raw, [(a.id.encode(), a.to_bytes()) for a in warm])
        warm_ids = {a.id for a in warm}
        got = await testing.consume(bootstrap, alerts, lambda rs: warm_ids <= {r["article_id"] for r in rs}, 180)
        if not warm_ids <= {r["article_id"] for r in got}:
            raise RuntimeError(f"the worker raised no alerts for the warm-up; log: {worker.log_path}")

        # Capacity: a burst, timed until its last alert.
        burst = launch_reports(max(40, articles // 2), seed=2)
        burst_ids = {a.id for a in burst}
        started = time.time()
        consumer = asyncio.create_task(
            testing.consume(
                bootstrap, alerts, lambda rs: burst_ids <= {r["article_id"] for r in rs}, 600, from_beginning=False
            )
        )
        await asyncio.sleep(1.0)
        started = time.time()
        await testing.produce(bootstrap, raw, [(a.id.encode(), a.to_bytes()) for a in burst])
        done = await consumer
        capacity = len(burst) / (max(r["_received"] for r in done) - started)
        rate = rate or capacity / 2

        # Paced feed: one article every 1/rate seconds, latency from send to the alert's arrival.
        paced = launch_reports(articles, seed=3)
        paced_ids = {a.id for a in paced}
        consumer = asyncio.create_task(
            testing.consume(
                bootstrap, alerts, lambda rs: paced_ids <= {r["article_id"] for r in rs}, 600, from_beginning=False
            )
        )
        await asyncio.sleep(1.0)
        sent_at: dict[str, float] = {}
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        await producer.start()
        try:
            next_at = time.time()
            for article in paced:
                await asyncio.sleep(max(0.0, next_at - time.time()))
                sent_at[article.id] = time.time()
                await producer.send_and_wait(raw, key=article.id.encode(), value=article.to_bytes())
                next_at += 1.0 / rate
        finally:
            await producer.stop()
        received = await consumer
        first_alert = {}
        for record in received:
            if record["article_id"] in sent_at:
                first_alert.setdefault(record["article_id"], record["_received"])
        latencies = [(first_alert[i] - sent_at[i]) * 1000 for i in first_alert]
        if len(latencies) < len(paced):
            print(f"warning: {len(paced) - len(latencies)} articles raised no alert in time", file=sys.stderr)
        return {
            "capacity_aps": round(capacity, 2),
            "rate": round(rate, 2),
            "n": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
        }
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200, help="paced articles (default 200)")
    parser.add_argument("--rate", type=float, default=None, help="articles/s (default: half the capacity)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wirewatch-latency-") as tmp:
        workdir = Path(tmp)
        with EmbeddedBroker(Settings(), port=free_port(), log_file=workdir / "tansu.log") as broker:
            figures = asyncio.run(measure(broker.bootstrap, workdir, args.articles, args.rate))
    print(f"single-worker capacity: {figures['capacity_aps']} articles/s; fed at {figures['rate']} articles/s")
    print(
        f"ingest→alert latency over {figures['n']} articles: p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms"
    )
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
