"""Where subscriptions live: the compacted topic ``news.subscriptions`` (key = subscription id, value = the
subscription's JSON, a tombstone for a removed one).

Why a compacted topic: it needs nothing wirewatch does not already run (the broker), every worker reads
the same list with one consumer (no consumer group: each reads it whole), a write from the API or the CLI
is durable once the broker acknowledges it, and compaction keeps only the latest version of each id. The
file ``WIREWATCH_SUBSCRIPTIONS`` names is loaded into the topic when a worker starts, so the TOML file
and the API manage one list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from ..settings import Settings
from ..tomlconfig import read_toml
from ..topics import SUBSCRIPTIONS
from .model import Subscription, SubscriptionError, parse_subscription, parse_subscriptions

log = logging.getLogger(__name__)


def load_file(path: str | Path) -> list[Subscription]:
    """The subscriptions of a ``subscriptions.toml``; a bad one is a :class:`SubscriptionError` naming the
    file, the subscription and the field."""
    return parse_subscriptions(read_toml(path, "subscriptions", _FileError), str(path))


class _FileError(SubscriptionError):
    def __init__(self, message: str) -> None:
        super().__init__("file", message)


async def read_compacted(
    settings: Settings, bootstrap: list[str], topic: str, timeout: float = 15.0
) -> dict[str, bytes]:
    """The latest value of each key of a compacted ``topic``, read from its beginning to its current end
    without a consumer group (tombstones remove their key)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **settings.aiokafka_security())
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()  # a new consumer may not know the topic yet
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: dict[str, bytes] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if loop.time() > deadline:
                raise TimeoutError(f"reading {topic} took more than {timeout:g}s")
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    key = record.key.decode("utf-8", "replace") if record.key else ""
                    if record.value is None:
                        found.pop(key, None)
                    else:
                        found[key] = record.value
        return found
    finally:
        await consumer.stop()


class SubscriptionStore:
    """Reads and writes ``news.subscriptions`` on ``bootstrap``."""

    def __init__(self, settings: Settings, bootstrap: list[str] | None = None) -> None:
        self.settings = settings
        self.bootstrap = bootstrap or settings.bootstrap_servers
        self.topic = settings.topic(SUBSCRIPTIONS)

    async def read_all(self, timeout: float = 15.0) -> dict[str, Subscription]:
        """Every stored subscription, read from the beginning of the topic to its current end. A stored
        record that no longer passes the checks (say, a kind the taxonomy dropped) is logged and skipped."""
        found: dict[str, Subscription] = {}
        for key, value in (await read_compacted(self.settings, self.bootstrap, self.topic, timeout)).items():
            try:
                found[key] = parse_subscription(orjson.loads(value))
            except (orjson.JSONDecodeError, SubscriptionError) as exc:
                log.warning("%s: stored subscription %r skipped: %s", self.topic, key, exc)
        return found

    async def write(self, puts: Iterable[Subscription] = (), deletes: Iterable[str] = ()) -> None:
        """Store ``puts`` and remove ``deletes`` (tombstones); returns once the broker acknowledged all."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", **self.settings.aiokafka_security())
        await producer.start()
        try:
            futures = [
                await producer.send(self.topic, key=sub.id.encode(), value=orjson.dumps(sub.to_dict())) for sub in puts
            ]
            futures += [await producer.send(self.topic, key=sid.encode(), value=None) for sid in deletes]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
