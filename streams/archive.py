"""The archive's consumer: ``news.enriched``, ``news.alerts`` and ``news.incidents`` into the store.

It is a plain aiokafka consumer in a group of its own (``<app id>-archive``), run as a task of every
worker, not a Faust agent: Faust agents share the app's one consumer group, and the archive must not.
With its own group its offsets are its own (``wirewatch archive --from-beginning`` rebuilds the store
without touching the pipeline's), a slow or unreachable database holds back only the archive, never the
alerts, and its lag shows as a group of its own. The workers split the partitions between them, so each
record is written by one worker; offsets are committed only after the store has the batch, and every
write is an upsert by key, so a re-delivered or replayed record changes no count.

A record that is not a JSON object with its key fields becomes a dead letter (stage ``archive``) and the
rest of the batch is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from .records import DeadLetter
from .settings import Settings
from .store import Store
from .topics import ALERTS, DEADLETTER, ENRICHED, INCIDENTS, LARGE_RECORD_HEADROOM

if TYPE_CHECKING:
    from .pipeline import Pipeline

log = logging.getLogger(__name__)

#: Each archived topic and the field every one of its records must carry (the store's key).
ARCHIVED = {ENRICHED: "id", ALERTS: "alert_id", INCIDENTS: "incident_id"}
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
PRUNE_EVERY_S = 3600.0


def group_id(settings: Settings) -> str:
    return f"{settings.app_id}-archive"


@dataclass
class Batch:
    """One poll's records sorted by topic, and the dead letters of those that are not records."""

    articles: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    def add(self, kind: str, message: ConsumerRecord) -> None:
        key_field = ARCHIVED[kind]
        try:
            value = orjson.loads(message.value)
        except (orjson.JSONDecodeError, TypeError) as exc:
            self._dead(message, "invalid_json", str(exc))
            return
        if not isinstance(value, dict) or not value.get(key_field):
            self._dead(message, "invalid_record", f"not a record with {key_field!r}")
            return
        {ENRICHED: self.articles, ALERTS: self.alerts, INCIDENTS: self.incidents}[kind].append(value)

    def _dead(self, message: ConsumerRecord, reason: str, error: str) -> None:
        self.dead.append(
            DeadLetter(
                stage="archive",
                reason=reason,
                error=error,
                original=message.value if isinstance(message.value, bytes) else b"",
                original_key=message.key,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
            )
        )

    def write(self, store: Store) -> dict[str, int]:
        """Upsert the batch (blocking: run it on a thread). Incidents last: their reports read alerts."""
        return {
            "articles": store.upsert_articles(self.articles),
            "alerts": store.upsert_alerts(self.alerts),
            "incidents": store.upsert_incidents(_latest(self.incidents)),
        }


def _latest(incidents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One version per incident in a batch: the last read (a partition keeps an incident's order)."""
    return list({str(i["incident_id"]): i for i in incidents}.values())


def retention_cutoff(settings: Settings, now: float | None = None) -> float | None:
    days = settings.store_retention_days
    return None if days <= 0 else (now or time.time()) - days * 86400.0


class Archiver:
    """Reads the archived topics and writes them to ``store``; ``kinds`` maps full topic names to their
    catalog names."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.kinds = {settings.topic(name): name for name in ARCHIVED}
        self.written = {"articles": 0, "alerts": 0, "incidents": 0, "dead_letters": 0}
        self._producer: AIOKafkaProducer | None = None

    def consumer(self, group: str | None) -> AIOKafkaConsumer:
        settings = self.settings
        return AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=settings.max_record_bytes + LARGE_RECORD_HEADROOM,
            fetch_max_bytes=max(16 * 1024 * 1024, settings.max_record_bytes + LARGE_RECORD_HEADROOM),
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            session_timeout_ms=int(settings.session_timeout * 1000),
            rebalance_timeout_ms=int(settings.rebalance_timeout * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.session_timeout / 4) * 1000),
            **settings.aiokafka_security(),
        )

    async def store_batch(self, messages: Iterable[ConsumerRecord]) -> None:
        """Write one poll's records (and dead letters); raises when the store failed, before any commit."""
        batch = Batch()
        for message in messages:
            batch.add(self.kinds[message.topic], message)
        if batch.articles or batch.alerts or batch.incidents:
            counts = await asyncio.to_thread(batch.write, self.store)
            for name, count in counts.items():
                self.written[name] += count
        if batch.dead:
            await self._dead_letters(batch.dead)

    async def _dead_letters(self, letters: list[DeadLetter]) -> None:
        settings = self.settings
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=settings.bootstrap_servers,
                acks="all",
                max_request_size=settings.max_record_bytes + 65536,
                **settings.aiokafka_security(),
            )
            await self._producer.start()
        for letter in letters:
            log.warning(
                "archive dead letter: %s %s (topic=%s offset=%s)",
                letter.reason,
                letter.error,
                letter.topic,
                letter.offset,
            )
            await self._producer.send_and_wait(
                settings.topic(DEADLETTER), key=letter.key, value=letter.to_bytes(settings.max_record_bytes)
            )
        self.written["dead_letters"] += len(letters)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def prune(self) -> int:
        cutoff = retention_cutoff(self.settings)
        if cutoff is None:
            return 0
        pruned = self.store.prune_articles(cutoff)
        if pruned:
            log.info("archive: pruned %d article(s) older than %s days", pruned, self.settings.store_retention_days)
        return pruned

    # -- in a worker: follow the topics in the archive's group, forever
    async def follow(self) -> None:
        """Consume in the archive group until cancelled; a failed store write is retried from the last
        committed offsets (nothing is skipped)."""
        failures = 0
        while True:
            try:
                await self._follow_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("archive: %s: %s; retrying in %.0fs", type(exc).__name__, exc, wait)
                await asyncio.sleep(wait)

    async def _follow_once(self) -> None:
        consumer = self.consumer(group_id(self.settings))
        await consumer.start()
        try:
            consumer.subscribe(sorted(self.kinds))
            pruned_at = 0.0
            while True:
                if time.monotonic() - pruned_at > PRUNE_EVERY_S:
                    await asyncio.to_thread(self.prune)
                    pruned_at = time.monotonic()
                polled = await consumer.getmany(timeout_ms=1000, max_records=500)
                messages = [m for batch in polled.values() for m in batch]
                if messages:
                    await self.store_batch(messages)
                    await consumer.commit()
        finally:
            await consumer.stop()
            await self.close()

    # -- `wirewatch archive`: catch up once, then stop
    async def catch_up(self, from_beginning: bool) -> dict[str, int]:
        """Read every archived topic up to its end offsets at the start, then return the counts written.
        ``from_beginning``: from offset 0 (a rebuild); otherwise from the archive group's committed offsets.
        Either way the group's offsets are left alone: they belong to the workers' archive consumers."""
        consumer = self.consumer(group_id(self.settings) if not from_beginning else None)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p)
                for topic in sorted(self.kinds)
                for p in sorted(consumer._client.cluster.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                return dict(self.written)
            consumer.assign(partitions)
            if from_beginning:
                await consumer.seek_to_beginning(*partitions)
            else:
                for tp in partitions:
                    committed = await consumer.committed(tp)
                    if committed is None:
                        await consumer.seek_to_beginning(tp)
                    else:
                        consumer.seek(tp, committed)
            ends = await consumer.end_offsets(partitions)
            open_parts = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
            while open_parts:
                polled = await consumer.getmany(*open_parts, timeout_ms=1000, max_records=500)
                messages = [m for batch in polled.values() for m in batch]
                if messages:
                    await self.store_batch(messages)
                open_parts = {tp for tp in open_parts if await consumer.position(tp) < ends[tp]}
            await asyncio.to_thread(self.prune)
            await asyncio.to_thread(self.store.optimize)
            return dict(self.written)
        finally:
            await consumer.stop()
            await self.close()


def register_archive(pipeline: Pipeline, store: Store) -> Archiver:
    """Run an :class:`Archiver` as a task of the worker (started and cancelled with the app)."""
    archiver = Archiver(pipeline.settings, store)

    async def archive() -> None:
        await archiver.follow()

    pipeline.app.task(archive)
    return archiver
