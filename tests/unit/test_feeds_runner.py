"""The runner with hand-made feeds: isolation of crashing feeds, streaming feeds, delivery failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson

from wirewatch.streams.feeds import BaseFeed, FeedContext, FeedHealth, FeedState
from wirewatch.streams.feeds.runner import CallbackProducer, FeedRunner
from wirewatch.streams.records import Article

FAST = {"interval": 0.02, "jitter": 0.0, "backoff": 0.02, "max_backoff": 0.05}


class ListFeed(BaseFeed):
    """Yields the same stories every poll; records whether its checkpoint was reached."""

    def __init__(self, id: str, options: Mapping[str, Any], context: FeedContext | None = None) -> None:
        super().__init__(id, options, context)
        self.stories: list[str] = self.opts.get("stories", list)
        self.checkpoints = 0

    async def articles(self) -> AsyncIterator[Article]:
        for story in self.stories:
            yield Article.create(story, feed=self.id)
        self.checkpoints += 1


class CrashingFeed(BaseFeed):
    async def articles(self) -> AsyncIterator[Article]:
        yield Article.create("A first story before the crash.", feed=self.id)
        raise ZeroDivisionError("a bug in the plugin")


class StreamingFeed(BaseFeed):
    """Never returns: one article every few milliseconds, like a socket source."""

    async def articles(self) -> AsyncIterator[Article]:
        number = 0
        while True:
            number += 1
            yield Article.create(f"Streamed bulletin number {number}.", feed=self.id)
            await asyncio.sleep(0.005)


class ProtocolOnlyFeed:
    """A feed that does not subclass BaseFeed: only the protocol."""

    def __init__(self, id: str) -> None:
        self.id = id
        self.options: dict[str, Any] = {}
        self._health = FeedHealth()

    async def articles(self) -> AsyncIterator[Article]:
        yield Article.create("The lighthouse keeper retired after forty years.", feed=self.id)

    def health(self) -> FeedHealth:
        return self._health


async def run_until(runner: FeedRunner, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Run the feeds until ``done()`` holds (checked every 10 ms), failing after ``timeout`` seconds.

    A condition, not a fixed sleep: on a loaded machine the same number of polls takes longer.
    """
    task = asyncio.create_task(runner.run(grace=0.2))
    deadline = asyncio.get_running_loop().time() + timeout
    while not done() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    runner.stop()
    await asyncio.wait_for(task, timeout=5)


async def test_a_crashing_feed_never_stops_the_others() -> None:
    context = FeedContext()
    good = ListFeed("good", {"stories": ["The bakery reopened."], **FAST}, context)
    bad = CrashingFeed("bad", FAST, context)
    plain = ProtocolOnlyFeed("plain")
    produced: list[dict] = []
    runner = FeedRunner([good, bad, plain], CallbackProducer(lambda k, v: produced.append(orjson.loads(v))), context)
    await run_until(
        runner,
        lambda: (
            runner.health()["bad"]["errors"] >= 2
            and runner.health()["bad"]["duplicates"] >= 1
            and runner.health()["good"]["polls"] >= 3
            and runner.health()["plain"]["new"] == 1
        ),
    )
    health = runner.health()
    assert health["bad"]["errors"] >= 2 and "ZeroDivisionError: a bug in the plugin" in health["bad"]["last_error"]
    assert health["bad"]["new"] == 1 and health["bad"]["duplicates"] >= 1  # its first story, once
    assert health["good"]["errors"] == 0 and health["good"]["polls"] >= 3 and health["good"]["new"] == 1
    assert health["plain"]["new"] == 1 and health["plain"]["last_success"] is not None
    assert sorted(a["feed"] for a in produced) == ["bad", "good", "plain"]


async def test_streaming_feed_is_handled_as_it_arrives_and_stops() -> None:
    context = FeedContext()
    feed = StreamingFeed("ticker", FAST, context)
    produced: list[bytes] = []
    runner = FeedRunner([feed], CallbackProducer(lambda k, v: produced.append(v)), context)
    await run_until(runner, lambda: len(produced) >= 5)
    assert len(produced) >= 5 and feed.health().new == len(produced)
    assert len(set(produced)) == len(produced)


async def test_failed_delivery_marks_nothing_seen_and_takes_no_checkpoint() -> None:
    context = FeedContext(state=FeedState(":memory:"))
    feed = ListFeed("wire", {"stories": ["First story.", "Second story."]}, context)
    attempts: list[bytes] = []

    async def flaky(key: bytes | None, value: bytes) -> None:
        attempts.append(value)
        if len(attempts) == 2:
            raise ConnectionError("broker unavailable")

    runner = FeedRunner([feed], CallbackProducer(flaky), context)
    assert (await runner.run_once())["wire"] is None
    assert feed.checkpoints == 0 and feed.health().errors == 1
    assert "ConnectionError" in (feed.health().last_error or "")
    result = (await runner.run_once())["wire"]
    assert result is not None and (result.new, result.duplicates) == (1, 1)  # the failed one is retried
    assert feed.checkpoints == 1 and len(attempts) == 3


async def test_yielding_something_else_is_an_error() -> None:
    class Wrong(BaseFeed):
        async def articles(self) -> AsyncIterator[Any]:
            yield {"text": "a dict, not an Article"}

    context = FeedContext()
    runner = FeedRunner([Wrong("w", {}, context)], CallbackProducer(lambda k, v: None), context)
    assert (await runner.run_once())["w"] is None
    assert "not an Article or RawRecord" in (runner.health()["w"]["last_error"] or "")
