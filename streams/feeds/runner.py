"""Runs feeds: one task per feed, failures isolated and backed off, articles deduped and produced.

Inside the worker: :func:`register_runner` adds a Faust task that produces through the app's own
producer. Standalone: :func:`run_standalone` (``wirewatch feeds run``) only produces, with aiokafka.

Delivery is at least once: an article is marked seen (persistently, per feed) only after the broker
acknowledged it, and a feed's checkpoint (ETag, file offset) is taken only after its whole poll was
delivered. The article id is stable, so the rare re-send after a crash is a no-op downstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from ..broker import ensure_topics, resolve_bootstrap
from ..records import Article
from ..settings import Settings
from ..topics import RAW
from .base import Feed, FeedContext, FeedError, FeedHealth, FeedState, RawRecord, Schedule
from .config import FeedConfig, build_feed, build_feeds, load_config

log = logging.getLogger(__name__)

STATE_FILE = "feeds.sqlite"


# ---- producers: how the articles reach news.raw ---------------------------------------------------------
class RawProducer(Protocol):
    async def send(self, key: bytes | None, value: bytes) -> None:
        """Produce one record to news.raw and return once the broker acknowledged it."""


class WorkerProducer:
    """The worker's own producer (``pipeline.raw``)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    async def send(self, key: bytes | None, value: bytes) -> None:
        future = await self.pipeline.raw.send(key=key, value=value)
        await future


class StandaloneProducer:
    """An aiokafka producer of its own (standalone runner, tests)."""

    def __init__(self, settings: Settings, bootstrap: Sequence[str] | None = None) -> None:
        self.settings = settings
        self.bootstrap = list(bootstrap or settings.bootstrap_servers)
        self.topic = settings.topic(RAW)
        self._producer: Any = None

    async def start(self) -> StandaloneProducer:
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            max_request_size=self.settings.max_record_bytes + 65536,
            **self.settings.aiokafka_security(),
        )
        await self._producer.start()
        return self

    async def send(self, key: bytes | None, value: bytes) -> None:
        await self._producer.send_and_wait(self.topic, value=value, key=key)

    async def send_many(self, records: Sequence[tuple[bytes | None, bytes]]) -> None:
        """Produce records in order, pipelined (not one round trip each), and return once all are acknowledged."""
        futures = [await self._producer.send(self.topic, value=value, key=key) for key, value in records]
        await asyncio.gather(*futures)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


class CallbackProducer:
    """Hands each record to a function (``feeds check``, tests)."""

    def __init__(self, callback: Callable[[bytes | None, bytes], Awaitable[None] | None]) -> None:
        self.callback = callback

    async def send(self, key: bytes | None, value: bytes) -> None:
        result = self.callback(key, value)
        if asyncio.iscoroutine(result):
            await result


# ---- the runner -----------------------------------------------------------------------------------------
@dataclass
class PollResult:
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    invalid: int = 0


class FeedRunner:
    """Polls every feed in its own task. ``health()`` gives per-feed counters for the dashboard."""

    def __init__(
        self,
        feeds: Sequence[Feed],
        producer: RawProducer,
        context: FeedContext,
        *,
        start_delay: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.feeds = list(feeds)
        self.producer = producer
        self.context = context
        self.start_delay = start_delay
        self.rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- health -------------------------------------------------------------------------------------
    def health(self) -> dict[str, dict[str, Any]]:
        """``{feed id: FeedHealth.to_dict() + type}``, JSON-ready."""
        out = {}
        for feed in self.feeds:
            record = feed.health().to_dict()
            record["type"] = type(feed).__name__
            out[feed.id] = record
        return out

    # ---- one poll -----------------------------------------------------------------------------------
    async def poll(self, feed: Feed) -> PollResult:
        """One poll of ``feed``: every item deduped and produced. Exceptions propagate (and close the
        feed's generator, so it takes no checkpoint)."""
        result = PollResult()
        health = feed.health()
        state = self.context.state
        async for item in feed.articles():
            result.fetched += 1
            health.fetched += 1
            if isinstance(item, Article):
                key, value, dedupe_id = item.id.encode("utf-8"), item.to_bytes(), item.id
            elif isinstance(item, RawRecord):
                key, value, dedupe_id = item.key, item.value, item.dedupe_id
            else:
                raise FeedError(f"feed yielded {type(item).__name__}, not an Article or RawRecord")
            if state.seen(feed.id, dedupe_id):
                result.duplicates += 1
                health.duplicates += 1
                continue
            await self.producer.send(key, value)
            state.mark(feed.id, dedupe_id)
            if isinstance(item, RawRecord):
                result.invalid += 1
                health.invalid += 1
                log.warning("feed %s: %s; produced as is for the worker to dead-letter", feed.id, item.problem)
            else:
                result.new += 1
                health.new += 1
        return result

    async def poll_once(self, feed: Feed) -> PollResult | None:
        """One poll with the bookkeeping of the loop (success / error counters); None when it failed."""
        health = feed.health()
        health.polls += 1
        try:
            result = await self.poll(feed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health.errors += 1
            health.consecutive_errors += 1
            health.last_error = f"{type(exc).__name__}: {exc}"[:500] if not isinstance(exc, FeedError) else str(exc)
            health.last_error_at = time.time()
            if isinstance(exc, FeedError):
                log.warning("feed %s: poll failed: %s", feed.id, exc)
            else:
                log.exception("feed %s: poll failed", feed.id)
            return None
        health.consecutive_errors = 0
        health.last_success = time.time()
        if result.new or result.invalid:
            log.info(
                "feed %s: %d new, %d duplicate, %d invalid",
                feed.id,
                result.new,
                result.duplicates,
                result.invalid,
            )
        return result

    async def run_feed(self, feed: Feed) -> None:
        """Poll ``feed`` until stopped, waiting its schedule (or its backoff) between polls."""
        schedule: Schedule = getattr(feed, "schedule", None) or Schedule()
        health = feed.health()
        if self.start_delay and await self._wait(self.start_delay):
            return
        while not self._stop.is_set():
            await self.poll_once(feed)
            delay = schedule.delay(health.consecutive_errors, self.rng)
            health.last_delay = delay
            health.next_poll = time.time() + delay
            if await self._wait(delay):
                return

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        return self._stop.is_set()

    async def run(self, grace: float = 2.0) -> None:
        """Run every feed until :meth:`stop` (or cancellation); then release the shared resources.

        On stop, feeds between polls end at once; a poll still running after ``grace`` seconds (a
        streaming feed never ends its poll) is cancelled: it takes no checkpoint, and what it already
        delivered is remembered as seen."""
        self._stop.clear()
        self._tasks = [asyncio.create_task(self.run_feed(f), name=f"feed:{f.id}") for f in self.feeds]
        # return_exceptions: a feed task that dies anyway (a bug in the loop) must not take the others.
        everything = asyncio.gather(*self._tasks, return_exceptions=True)
        stopped = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([everything, stopped], return_when=asyncio.FIRST_COMPLETED)
            if not everything.done():
                await asyncio.wait([everything], timeout=grace)
            for task in self._tasks:
                task.cancel()
            results = await everything
            for feed, outcome in zip(self.feeds, results, strict=True):
                if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                    log.error("feed %s: task ended with %r", feed.id, outcome)
        finally:
            stopped.cancel()
            for task in self._tasks:
                task.cancel()
            await self.aclose()

    async def run_once(self) -> dict[str, PollResult | None]:
        """Poll every feed once, concurrently (``wirewatch feeds run --once``, tests)."""
        results = await asyncio.gather(*(self.poll_once(f) for f in self.feeds))
        return {f.id: r for f, r in zip(self.feeds, results, strict=True)}

    def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        for feed in self.feeds:
            closer = getattr(feed, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
        await self.context.aclose()


# ---- wiring ---------------------------------------------------------------------------------------------
def state_for(settings: Settings) -> FeedState:
    """The persistent feed state of this data dir (seen ids, ETags, offsets)."""
    return FeedState(settings.data_path / STATE_FILE)


def runner_for(
    settings: Settings, config_path: str | Path, producer: RawProducer, state: FeedState | None = None
) -> FeedRunner:
    """Load ``feeds.toml`` and build a runner (raises FeedConfigError with the feed and option named)."""
    context = FeedContext(settings=settings, state=state or state_for(settings))
    feeds = build_feeds(load_config(config_path), context)
    return FeedRunner(feeds, producer, context)


def register_feeds(pipeline: Any, runner: FeedRunner) -> FeedRunner:
    """Run ``runner`` inside the worker as a Faust task (stopped with the worker)."""

    @pipeline.app.task
    async def run_feeds() -> None:
        log.info("feeds: running %d feed(s): %s", len(runner.feeds), ", ".join(f.id for f in runner.feeds))
        try:
            await runner.run()
        finally:
            runner.context.state.close()

    return runner


def register_runner(pipeline: Any, config_path: str | Path) -> FeedRunner:
    """Run the feeds of ``config_path`` inside the worker; returns the runner (for ``health()``)."""
    runner = runner_for(pipeline.settings, config_path, WorkerProducer(pipeline))
    return register_feeds(pipeline, runner)


def register_demo(pipeline: Any, *, pace: float = 0.5, start_delay: float = 2.0) -> FeedRunner:
    """Replay the bundled sample (``streams/data/demo_feed.jsonl``) through the JSONL feed inside the
    worker: every ``wirewatch demo`` replays it (state in memory; ids make re-runs no-ops downstream)."""
    stack = contextlib.ExitStack()  # kept open for the worker's life: the file must stay readable
    path = stack.enter_context(resources.as_file(resources.files("wirewatch.streams") / "data" / "demo_feed.jsonl"))
    context = FeedContext(settings=pipeline.settings, state=FeedState(":memory:"))
    feed = build_feed(
        FeedConfig("demo", "jsonl", {"path": str(path), "pace": pace, "interval": 3600.0, "settle": 0.0}),
        context,
    )
    runner = FeedRunner([feed], WorkerProducer(pipeline), context, start_delay=start_delay)
    return register_feeds(pipeline, runner)


async def run_standalone(settings: Settings, config_path: str | Path, *, once: bool = False) -> dict[str, FeedHealth]:
    """The standalone runner: produce the feeds of ``config_path`` to news.raw until SIGINT/SIGTERM (or
    one poll each with ``once``). Returns the final health of each feed."""
    state = state_for(settings)
    try:
        bootstrap = resolve_bootstrap(settings)
        await ensure_topics(settings, bootstrap)  # a cluster without auto-create still gets news.raw
        producer = StandaloneProducer(settings, bootstrap)
        runner = runner_for(settings, config_path, producer, state)
        await producer.start()
        try:
            if once:
                await runner.run_once()
                await runner.aclose()
            else:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.add_signal_handler(sig, runner.stop)
                await runner.run()
        finally:
            await producer.stop()
        return {f.id: f.health() for f in runner.feeds}
    finally:
        state.close()
