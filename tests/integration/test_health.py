"""/healthz, /readyz and the stall watchdog of a real worker: its model process is stopped (SIGSTOP) with
records waiting, /readyz fails with the reason and wirewatch_stalls_total moves; resumed, it recovers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

import aiohttp
import pytest

from wirewatch.streams.records import Article

from .conftest import SHORT_SESSION, Cluster
from .test_batching import analysis_child
from .test_metrics import AUTH, TOKEN, base_url, parse, total

pytestmark = pytest.mark.integration


async def probe(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    try:
        async with session.get(url) as response:  # no token: the probes are public
            return response.status, await response.json()
    except aiohttp.ClientError:
        return 0, None


async def wait_for(session: aiohttp.ClientSession, url: str, status: int, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: tuple[int, Any] = (0, None)
    while time.monotonic() < deadline:
        last = await probe(session, url)
        if last[0] == status:
            return last[1]
        await asyncio.sleep(0.5)
    pytest.fail(f"{url} did not answer {status} within {timeout} s; last answer: {last}")


async def stalls(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(url + "/metrics", headers=AUTH) as response:
        return total(parse(await response.text())[1], "wirewatch_stalls_total", agent="enrich")


async def test_readyz_fails_on_a_stalled_agent_counts_it_and_recovers(cluster: Cluster) -> None:
    worker = cluster.worker(
        WIREWATCH_NLP_PROCESS="1",
        WIREWATCH_API_TOKEN=TOKEN,
        WIREWATCH_LAG_INTERVAL="1",
        WIREWATCH_STALL_SECONDS="4",
    )
    url = base_url(worker)
    async with aiohttp.ClientSession() as session:
        assert (await wait_for(session, url + "/healthz", 200, 120)) == {"status": "ok"}
        warm = Article.create("Officials in Seoul said on Monday that the trade report was published.", feed="health")
        await cluster.produce([(warm.id.encode(), warm.to_bytes())])
        await cluster.consume("news.enriched", lambda rs: any(r["id"] == warm.id for r in rs), timeout=120)
        ready = await wait_for(session, url + "/readyz", 200, 60)
        assert ready["ready"] and ready["partitions_assigned"] > 0 and ready["agents"]["enrich"] == "running"
        before = await stalls(session, url)

        assert worker.pid is not None
        child = analysis_child(worker.pid)
        assert child is not None, worker.log()[-3000:]
        os.kill(child, signal.SIGSTOP)  # the model hangs: the agent stops consuming, the process lives on
        try:
            waiting = [
                Article.create(f"The council met on day {i} to discuss the budget.", feed="health") for i in range(6)
            ]
            await cluster.produce([(a.id.encode(), a.to_bytes()) for a in waiting])
            body = await wait_for(session, url + "/readyz", 503, 60)
            assert body["ready"] is False and body["agents"]["enrich"] == "stalled", body
            assert any(r.startswith("agent enrich stalled:") and "records waiting" in r for r in body["reasons"])
            assert cluster.prefix not in str(body)  # no topic names, offsets or content
            assert await stalls(session, url) == before + 1
            assert "watchdog: agent enrich stalled" in worker.log()
            assert (await probe(session, url + "/healthz"))[0] == 200  # alive, only not ready
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGCONT)
        recovered = await wait_for(session, url + "/readyz", 200, 90)
        assert recovered["agents"]["enrich"] == "running" and recovered["reasons"] == []
        wanted = {a.id for a in waiting}
        enriched = await cluster.consume("news.enriched", lambda rs: wanted <= {r["id"] for r in rs}, timeout=60)
        assert wanted <= {r["id"] for r in enriched}
        assert await stalls(session, url) == before + 1  # one stall, counted once
        assert "making progress again" in worker.log()


async def test_with_stall_exit_a_stalled_worker_exits_for_its_supervisor(cluster: Cluster) -> None:
    worker = cluster.worker(
        WIREWATCH_NLP_PROCESS="1",
        WIREWATCH_LAG_INTERVAL="1",
        WIREWATCH_STALL_SECONDS="4",
        WIREWATCH_STALL_EXIT="1",
        WIREWATCH_SHUTDOWN_TIMEOUT="3",
        **SHORT_SESSION,
    )
    warm = Article.create("Officials in Seoul said on Monday that the trade report was published.", feed="health")
    await cluster.produce([(warm.id.encode(), warm.to_bytes())])
    await cluster.consume("news.enriched", lambda rs: any(r["id"] == warm.id for r in rs), timeout=120)
    assert worker.process is not None and worker.pid is not None
    child = analysis_child(worker.pid)
    assert child is not None
    os.kill(child, signal.SIGSTOP)
    try:
        stuck = Article.create("The council met on Tuesday to discuss the budget.", feed="health")
        await cluster.produce([(stuck.id.encode(), stuck.to_bytes())])
        code = await asyncio.to_thread(worker.process.wait, 60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    assert code == 75, worker.log()[-3000:]
    assert "WIREWATCH_STALL_EXIT" in worker.log()
    cluster.workers.remove(worker)
    cluster.worker(**SHORT_SESSION)  # the supervisor's restart: the record it had not acknowledged is processed
    enriched = await cluster.consume("news.enriched", lambda rs: any(r["id"] == stuck.id for r in rs), timeout=120)
    assert any(r["id"] == stuck.id for r in enriched)
