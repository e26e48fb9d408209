"""The priority lane (README "The priority lane"): likely launch reports overtake the queue on ``news.raw``.

Producers keep writing ``news.raw``, the one public ingest point. Inside each worker a :class:`Router`
reads the ``news.raw`` partitions that worker owns with a consumer of its own (so it never waits behind
the enrich agent's backlog), runs the pre-filter (``agents/priority.py``, no model) on each record and
copies the likely launch reports, bytes, key and timestamp unchanged, to the same partition of
``news.raw.priority``, with their origin (``news.raw`` partition and offset) in a header. The enrich agent
reads that topic in a stage of its own (see ``agents/enrich.py``): its batches wait for at most the two
ordinary batches in flight, not for the backlog.

The copy is then the record's one outcome: the ordinary stage, when it reaches the original, waits for
the priority stage to have sent the copy's outputs (:class:`Handoff`) and acks the original without
output; it processes the original itself only when the copy did not come within
:data:`HANDOFF_TIMEOUT_S` (the router was stopped, the partitions moved). The router keeps no offsets
of its own: it starts each partition at the group's committed offset, so after a crash it copies again
what the ordinary stage has not acknowledged, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from wirewatch.agents.priority import launch_candidate

from .records import Article
from .validation import InvalidRecord, parse_article

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .settings import Settings

log = logging.getLogger(__name__)

#: Header of a copy on news.raw.priority: ``topic:partition:offset`` of its original (topic names have no colon).
ORIGIN_HEADER = "wirewatch-origin"
#: How long the ordinary stage waits for the priority stage to finish the copy of a record.
HANDOFF_TIMEOUT_S = 30.0
#: Origins remembered as done per worker (a few hours of launch reports on a busy day).
HANDOFF_KEEP = 100_000
FETCH_RECORDS = 500

Origin = tuple[str, int, int]  # the original's topic, partition, offset


def is_priority(article: Article) -> bool:
    """The routing rule, the same in the router and in the ordinary stage."""
    return launch_candidate(article.title or "", article.text)


def priority_record(value: bytes | None, settings: Settings) -> bool:
    """Is this news.raw record a valid article the pre-filter sends to the priority lane?"""
    if not value:
        return False
    try:
        article = parse_article(
            value, max_article_bytes=settings.max_article_bytes, max_record_bytes=settings.max_record_bytes
        )
    except InvalidRecord:
        return False  # the ordinary stage dead-letters it
    return is_priority(article)


def origin_of(headers: Any) -> Origin | None:
    """The origin a copy carries (None for a record written to news.raw.priority by anyone else)."""
    for name, value in headers.items() if isinstance(headers, dict) else headers or ():
        if name == ORIGIN_HEADER and isinstance(value, bytes):
            with contextlib.suppress(ValueError):
                topic, partition, offset = value.decode("utf-8").split(":")
                return topic, int(partition), int(offset)
    return None


class Handoff:
    """Which news.raw records of this worker have their outcome from the priority lane (or were claimed
    by the ordinary stage after a wait): one outcome per record, whichever stage gets there first."""

    def __init__(self, keep: int = HANDOFF_KEEP) -> None:
        self.keep = keep
        self._done: OrderedDict[Origin, None] = OrderedDict()
        self._waiting: dict[Origin, asyncio.Future[None]] = {}

    def done(self, origin: Origin) -> bool:
        return origin in self._done

    def finish(self, origin: Origin) -> None:
        """``origin`` has its outcome (or is being processed by the ordinary stage): nobody else does it."""
        self._done[origin] = None
        self._done.move_to_end(origin)
        while len(self._done) > self.keep:
            self._done.popitem(last=False)
        waiter = self._waiting.pop(origin, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, origin: Origin, timeout: float = HANDOFF_TIMEOUT_S) -> bool:
        """True once the priority lane finished ``origin``; False (and claimed) after ``timeout``."""
        if self.done(origin):
            return True
        waiter = self._waiting.setdefault(origin, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except TimeoutError:
            self.finish(origin)  # claimed: a copy that comes later is acked without output
            return False


class Router:
    """Copies likely launch reports of the news.raw partitions this worker owns to news.raw.priority."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.raw_topic = pipeline.raw.get_topic_name()
        self.copied = 0
        self._positions: dict[TopicPartition, int] = {}

    def owned(self) -> set[TopicPartition]:
        try:
            assignment = self.pipeline.app.consumer.assignment()
        except Exception:  # not started yet
            return set()
        return {TopicPartition(tp.topic, tp.partition) for tp in assignment if tp.topic == self.raw_topic}

    async def run(self) -> None:
        settings = self.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=None,  # no part in the app's group: its committed offsets are read with the admin client
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            max_partition_fetch_bytes=max(4 * 1024 * 1024, settings.max_record_bytes + 65536),
            fetch_max_bytes=max(16 * 1024 * 1024, settings.max_record_bytes + 65536),
            **settings.aiokafka_security(),
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, **settings.aiokafka_security())
        await consumer.start()
        await admin.start()
        try:
            current: set[TopicPartition] = set()
            while True:
                try:
                    owned = self.owned()
                    if owned != current:
                        await self._follow(consumer, admin, owned)
                        current = owned
                    if not current:
                        await asyncio.sleep(0.5)
                        continue
                    await self._copy(await consumer.getmany(timeout_ms=200, max_records=FETCH_RECORDS))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a broker hiccup: start over from the last copied positions
                    log.warning("priority router: %r; retrying", exc)
                    current = set()
                    await asyncio.sleep(1.0)
        finally:
            await consumer.stop()
            await admin.close()

    async def _follow(self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient, owned: set[TopicPartition]) -> None:
        """Read the partitions Faust gave this worker: those kept where the router was, new ones from the
        group's committed offset (what the ordinary stage has not acknowledged yet)."""
        self._positions = {tp: pos for tp, pos in self._positions.items() if tp in owned}
        new = sorted(tp for tp in owned if tp not in self._positions)
        if new:
            committed = await admin.list_consumer_group_offsets(self.settings.app_id, partitions=new)
            beginnings = await consumer.beginning_offsets(new)
            for tp in new:
                meta = committed.get(tp)
                self._positions[tp] = meta.offset if meta is not None and meta.offset >= 0 else beginnings[tp]
        consumer.assign(sorted(owned))
        for tp in owned:
            consumer.seek(tp, self._positions[tp])

    async def _copy(self, batch: dict[TopicPartition, list[Any]]) -> None:
        """Copy the batch's candidates and wait for the broker; only then move the positions."""
        sends = []
        moved: dict[TopicPartition, int] = {}
        for tp, messages in batch.items():
            for message in messages:
                if priority_record(message.value, self.settings):
                    origin = f"{tp.topic}:{tp.partition}:{message.offset}".encode()
                    sends.append(
                        await self.pipeline.priority.send(
                            key=message.key,
                            value=message.value,
                            partition=tp.partition,
                            timestamp=message.timestamp / 1000,
                            headers=[(ORIGIN_HEADER, origin)],
                            key_serializer="raw",
                            value_serializer="raw",
                        )
                    )
                moved[tp] = message.offset + 1
        await asyncio.gather(*sends)
        self.copied += len(sends)
        self._positions.update(moved)


def register_router(pipeline: Pipeline) -> Router:
    """Run the router with the worker (a Faust task)."""
    router = Router(pipeline)

    @pipeline.app.task
    async def priority_router() -> None:
        await router.run()

    return router
