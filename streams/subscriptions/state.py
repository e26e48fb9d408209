"""The subscriptions' delivery memory, kept where a worker restart does not lose it: the compacted topic
``news.subscriptions.state`` (next to ``news.subscriptions``, on the broker wirewatch already runs).

What it holds, one key each (compaction keeps the latest; a tombstone forgets):

* ``level/<subscription>/<channel>/<incident>``: the highest incident version sent on an immediate channel
  (``[modality rank, severity rank]``), so another outlet's copy after a restart is still not sent;
* ``digest/<subscription>/<channel>/<incident>``: the alert a pending digest holds for that incident;
* ``due/<subscription>/<channel>``: when that digest is due (epoch seconds).

Why this topic and not the archive's store: the store is optional (a worker runs without one) and fed by
its own consumer group, while this memory must be written before the alert that changed it is
acknowledged; a compacted topic needs nothing new, is read whole by the worker at start (as the
subscriptions are) and forgets a sent digest with tombstones.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer

from ..settings import Settings
from ..topics import SUBSCRIPTION_STATE
from .store import read_compacted

log = logging.getLogger(__name__)


class DeliveryState:
    """Changes are recorded at once (:meth:`record`, no I/O: the router stays Kafka-free) and written by
    :meth:`flush`, which returns once the broker acknowledged them and every change recorded before it."""

    def __init__(self, settings: Settings, bootstrap: list[str] | None = None) -> None:
        self.settings = settings
        self.bootstrap = bootstrap or settings.bootstrap_servers
        self.topic = settings.topic(SUBSCRIPTION_STATE)
        self._pending: dict[str, bytes | None] = {}
        self._in_flight: set[asyncio.Future] = set()
        self._sending = asyncio.Lock()
        self._producer: AIOKafkaProducer | None = None

    def record(self, key: str, value: bytes | None) -> None:
        """Keep ``value`` under ``key`` (None: forget the key); written by the next :meth:`flush`."""
        self._pending[key] = value

    async def load(self, timeout: float = 30.0) -> dict[str, bytes]:
        """Everything stored, as written last."""
        return await read_compacted(self.settings, self.bootstrap, self.topic, timeout)

    async def flush(self) -> None:
        """Send what was recorded and wait until the broker has it (and what earlier flushes sent)."""
        async with self._sending:  # a change taken by a concurrent flush is in _in_flight once this runs
            pending, self._pending = self._pending, {}
            try:
                producer = await self._producer_started() if pending else None
                for key, value in list(pending.items()):
                    assert producer is not None
                    future = await producer.send(self.topic, key=key.encode(), value=value)
                    del pending[key]
                    self._in_flight.add(future)
                    future.add_done_callback(lambda f, k=key, v=value: self._sent(f, k, v))
            finally:
                for key, value in pending.items():  # not sent (the broker is away): the next flush tries again
                    self._pending.setdefault(key, value)
            waiting = list(self._in_flight)
        if waiting:
            await asyncio.gather(*waiting)

    def _sent(self, future: asyncio.Future, key: str, value: bytes | None) -> None:
        self._in_flight.discard(future)
        if future.cancelled() or future.exception() is not None:
            self._pending.setdefault(key, value)  # unless changed since: the next flush writes it

    async def _producer_started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", **self.settings.aiokafka_security()
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def aclose(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
