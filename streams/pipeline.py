"""What the Faust agents share: the :class:`Pipeline` (the app, its topics, the analyzer) and
:func:`dead_letter_for`. The composition root (``streams/app.py``) builds a Pipeline; the agents and sinks
only import this module, so imports go one way (docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import faust
from aiokafka.errors import (
    CorruptRecordException,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.types import EventT, TopicT

from .priority import origin_of
from .records import DeadLetter, dumps
from .settings import Settings

if TYPE_CHECKING:
    from wirewatch.agents.analyzer import Analyzer

log = logging.getLogger(__name__)

#: Send errors about the message itself (its size or content): never retried (the enrich agent replaces such a
#: message by a dead letter). Every other send error (broker down, leader moved, timeout) is retried until it
#: passes.
REFUSED_MESSAGE_ERRORS = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
)
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0


def refused_for_itself(exc: BaseException) -> bool:
    """True when a send failed because of the message (Faust wraps aiokafka's error: look at the causes)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, REFUSED_MESSAGE_ERRORS):
            return True
        cause = cause.__cause__
    return False


async def send_until_delivered(sends: Sequence[Callable[[], Awaitable[asyncio.Future]]]) -> None:
    """Run ``sends`` in order (each queues one message and returns its delivery future, as
    :meth:`Pipeline.send_json` does) and return once each message is on the broker. A message the broker refuses
    for itself is logged as an error and not sent again; any other error is retried with backoff for as long as
    it takes, so the input behind them stays unacked meanwhile."""
    delay = RETRY_FIRST_S
    pending = list(sends)
    while pending:
        futures: list[asyncio.Future] = []
        for send in pending:
            try:
                futures.append(await send())
            except Exception as exc:  # a send that fails at once: retried like one that fails later
                failed: asyncio.Future = asyncio.get_running_loop().create_future()
                failed.set_exception(exc)
                futures.append(failed)
        results = await asyncio.gather(*futures, return_exceptions=True)
        again = []
        for send, result in zip(pending, results, strict=True):
            if not isinstance(result, BaseException):
                continue
            if refused_for_itself(result):
                log.error("the broker refused a message for itself, not sent: %r", result)
                continue
            again.append(send)
        if again:
            log.warning("%d of %d sends failed; retrying in %.1f s", len(again), len(pending), delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_S)
        pending = again


@dataclass
class Pipeline:
    """The app, its topics and what the agents share (the analyzer: the model, loaded once per worker)."""

    settings: Settings
    app: faust.App
    raw: TopicT
    enriched: TopicT
    alerts: TopicT
    incidents: TopicT
    deadletter: TopicT
    analyzer: Analyzer
    priority: TopicT | None = None  # news.raw.priority: likely launch reports, enriched first
    findings: TopicT | None = None  # internal: alertable findings keyed by actor (set by agents.alert)
    feed_runner: Any = None  # streams.feeds.runner.FeedRunner when the worker runs feeds
    push: Any = None  # streams.feeds.push.PushIngest (POST /api/ingest)
    health: Any = None  # streams.health.Health (/healthz, /readyz, the stall watchdog)

    async def send_json(self, topic: TopicT, key: bytes | str | None, value: dict[str, Any]) -> asyncio.Future:
        """Send ``value`` (orjson) and return the delivery future: await it before acking the input."""
        if isinstance(key, str):
            key = key.encode("utf-8")
        return await topic.send(key=key, value=dumps(value))

    async def dead_letter(self, letter: DeadLetter, max_bytes: int | None = None) -> asyncio.Future:
        """Write a DeadLetter keyed by the original key; counted and logged, never silent. The message stays
        within ``max_bytes`` (default: the record limit), its original cut if need be."""
        log.warning(
            "dead letter: stage=%s reason=%s error=%s (topic=%s partition=%s offset=%s)",
            letter.stage,
            letter.reason,
            letter.error[:200],
            letter.topic,
            letter.partition,
            letter.offset,
        )
        value = letter.to_bytes(max_bytes or self.settings.max_record_bytes)
        return await self.deadletter.send(key=letter.key, value=value)


def dead_letter_for(event: EventT, stage: str, reason: str, error: str, article_id: str | None = None) -> DeadLetter:
    """A DeadLetter for the record behind a Faust event: its original bytes, key and position. A copy on the
    priority lane names its original's position on news.raw: the one record it stands for."""
    message = event.message
    origin = origin_of(getattr(message, "headers", None))  # a message built by hand may have no headers
    topic, partition, offset = origin or (message.topic, message.partition, message.offset)
    return DeadLetter(
        stage=stage,
        reason=reason,
        error=error,
        original=message.value if isinstance(message.value, bytes) else b"",
        original_key=message.key if isinstance(message.key, bytes) else None,
        topic=topic,
        partition=partition,
        offset=offset,
        article_id=article_id,
    )
