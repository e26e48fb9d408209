"""Batching and at-least-once delivery of the enrich agent, on a real worker and broker."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from wirewatch.streams.records import Article

from .conftest import Cluster

pytestmark = pytest.mark.integration


def articles(n: int, tag: str) -> list[Article]:
    return [
        Article.create(
            f"Officials in Seoul said on Monday that report {tag}-{i} on regional trade had been published. "
            "The ministry of finance in Tokyo welcomed it.",
            feed="batching",
        )
        for i in range(n)
    ]


async def test_records_are_enriched_in_batches(cluster: Cluster) -> None:
    batch = articles(40, "b")
    # Produced before the worker starts, so the worker finds a backlog and fills its batches.
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in batch])
    worker = cluster.worker(WIREWATCH_BATCH_SIZE="8")
    wanted = {a.id for a in batch}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs})
    assert wanted <= {r["id"] for r in enriched}, worker.log()[-3000:]
    sizes = [r["processing"]["batch"] for r in enriched]
    assert max(sizes) > 1, sizes  # several records per nlp.pipe call
    assert max(sizes) <= 8


async def test_a_killed_worker_loses_nothing(cluster: Cluster) -> None:
    """SIGKILL mid-stream, restart: every article is enriched (offsets only move after outputs are sent)."""
    batch = articles(60, "k")
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in batch])
    worker = cluster.worker(WIREWATCH_BATCH_SIZE="4")
    await cluster.consume("news.enriched", lambda rs: len(rs) >= 4)
    assert worker.process is not None
    worker.process.kill()
    worker.process.wait()
    worker.process = None
    await asyncio.sleep(1)
    worker = cluster.worker(WIREWATCH_BATCH_SIZE="4")
    wanted = {a.id for a in batch}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs}, timeout=150)
    missing = wanted - {r["id"] for r in enriched}
    assert not missing, (len(missing), worker.log()[-3000:])
    counts = Counter(r["id"] for r in enriched)
    assert all(counts[i] >= 1 for i in wanted)
