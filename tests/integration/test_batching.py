"""Batching and at-least-once delivery of the enrich agent, on a real worker and broker."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from wirewatch.streams.records import Article
from wirewatch.streams.testing import child_pids

from .conftest import SHORT_SESSION, Cluster

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
    session = {"WIREWATCH_BATCH_SIZE": "4", **SHORT_SESSION}
    worker = cluster.worker(**session)
    await cluster.consume("news.enriched", lambda rs: len(rs) >= 4)
    assert worker.process is not None
    worker.process.kill()
    worker.process.wait()
    worker.process = None
    await asyncio.sleep(1)
    worker = cluster.worker(**session)
    wanted = {a.id for a in batch}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs}, timeout=150)
    missing = wanted - {r["id"] for r in enriched}
    assert not missing, (len(missing), worker.log()[-3000:])
    counts = Counter(r["id"] for r in enriched)
    assert all(counts[i] >= 1 for i in wanted)


def analysis_child(worker_pid: int) -> int | None:
    """The pid of the worker's model process (WIREWATCH_NLP_PROCESS), found by its spawn command line."""
    for pid in child_pids(worker_pid):
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    return None


async def test_a_killed_analysis_process_loses_nothing(cluster: Cluster) -> None:
    """WIREWATCH_NLP_PROCESS=1: SIGKILL the model's process mid-stream. The worker survives, starts a new
    one, retries the batch article by article: every article enriched, no dead letter."""
    long_articles = [
        Article.create(" ".join([a.text] * 12), feed="batching") for a in articles(48, "p")
    ]  # ~300 words each, so the stream is still running when the child dies
    await cluster.produce([(a.id.encode(), a.to_bytes()) for a in long_articles])
    worker = cluster.worker(WIREWATCH_NLP_PROCESS="1", WIREWATCH_BATCH_SIZE="4")
    await cluster.consume("news.enriched", lambda rs: len(rs) >= 4)
    assert worker.pid is not None
    child = analysis_child(worker.pid)
    assert child is not None, worker.log()[-3000:]
    os.kill(child, signal.SIGKILL)
    wanted = {a.id for a in long_articles}
    enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs}, timeout=150)
    assert wanted <= {r["id"] for r in enriched}, worker.log()[-3000:]
    assert "the analysis process died" in worker.log()
    replacement = analysis_child(worker.pid)
    assert replacement is not None and replacement != child
    letters = await cluster.consume("news.deadletter", lambda rs: False, timeout=3)
    assert not [d for d in letters if d.get("article_id") in wanted]
