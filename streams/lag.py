"""Consumer lag read from the broker: committed offsets of consumer groups against partition end offsets.

Works the same against Tansu and Apache Kafka. Committed offsets are fetched with OffsetFetch for
**named partitions** (Tansu answers the "all partitions of the group" form of the request with a
response aiokafka cannot parse), so the partitions asked for are those of wirewatch's topics: the catalog
topics and the app's internal repartition topic.

A group's partition without a committed offset shows ``committed = None``; for wirewatch's own group on
its input topics the lag is then counted from the partition's first offset, because the worker starts
there (``auto_offset_reset=earliest``). Other groups list only partitions they have committed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from .settings import Settings
from .topics import ALERTS, CATALOG, PRIORITY, RAW

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagRow:
    """One partition of one group: where the group is, where the partition ends, and the difference."""

    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has not committed an offset here
    end: int
    start: int = 0  # first offset still on the broker

    @property
    def lag(self) -> int:
        position = self.committed if self.committed is not None else self.start
        return max(0, self.end - max(position, self.start))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"lag": self.lag}


@dataclass(frozen=True)
class LagSnapshot:
    """Lag rows plus the end offsets of every partition read, taken at ``taken_at`` (epoch seconds)."""

    rows: list[LagRow]
    ends: dict[tuple[str, int], int]
    starts: dict[tuple[str, int], int]
    taken_at: float

    def topic_totals(self) -> dict[str, int]:
        """End offset summed over partitions per topic: records ever written (the throughput base)."""
        totals: dict[str, int] = {}
        for (topic, _), end in self.ends.items():
            totals[topic] = totals.get(topic, 0) + end
        return totals

    def retained(self, topic: str) -> int:
        """Records of ``topic`` still on the broker (end - start over partitions)."""
        return sum(end - self.starts.get(tp, 0) for tp, end in self.ends.items() if tp[0] == topic)


def lag_rows(
    group: str,
    committed: Mapping[tuple[str, int], int],
    ends: Mapping[tuple[str, int], int],
    starts: Mapping[tuple[str, int], int] | None = None,
    expected: Iterable[tuple[str, int]] = (),
) -> list[LagRow]:
    """Rows for ``group``: every partition it committed (offset >= 0) plus the ``expected`` ones, sorted.

    Pure: offsets as plain dicts keyed by (topic, partition); a partition missing from ``ends`` is
    skipped (the topic is gone or not readable).
    """
    starts = starts or {}
    wanted = {tp for tp, offset in committed.items() if offset is not None and offset >= 0}
    wanted.update(expected)
    rows = []
    for tp in sorted(wanted):
        if tp not in ends:
            continue
        offset = committed.get(tp)
        rows.append(
            LagRow(
                group=group,
                topic=tp[0],
                partition=tp[1],
                committed=offset if offset is not None and offset >= 0 else None,
                end=ends[tp],
                start=starts.get(tp, 0),
            )
        )
    return rows


def parse_groups(value: str) -> list[str]:
    """``WIREWATCH_LAG_GROUPS``: group ids separated by commas or spaces."""
    return [g for g in value.replace(",", " ").split() if g]


def internal_topics(settings: Settings) -> list[str]:
    """The app's own Faust topics its consumer group reads (see agents/alert.py)."""
    return [f"{settings.app_id}-findings-by-actor"]


def watched_topics(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in CATALOG] + internal_topics(settings)


def own_input_topics(settings: Settings) -> list[str]:
    """The topics the app's own group reads: news.raw and its priority lane, the findings topic, and
    news.alerts with webhooks."""
    webhooks = [settings.topic(ALERTS)] if settings.webhooks else []
    return [settings.topic(RAW), settings.topic(PRIORITY), *internal_topics(settings), *webhooks]


class LagReader:
    """Long-lived admin + groupless consumer pair that reads lag snapshots; one per worker or command."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: Sequence[str] | None = None,
        groups: Sequence[str] = (),
        request_timeout_ms: int = 10_000,
    ) -> None:
        self.settings = settings
        self.bootstrap = list(bootstrap or settings.bootstrap_servers)
        # The app's own group first, then the configured ones, without repeats.
        self.groups = list(dict.fromkeys([settings.app_id, *groups]))
        self.request_timeout_ms = request_timeout_ms
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._verified: dict[tuple[str, int], tuple[int, int]] = {}  # listed end -> confirmed end

    async def start(self) -> LagReader:
        security = self.settings.aiokafka_security()
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, request_timeout_ms=self.request_timeout_ms, **security
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,  # reads offsets only: joins no group, commits nothing
            enable_auto_commit=False,
            request_timeout_ms=self.request_timeout_ms,
            **security,
        )
        try:
            await self._admin.start()
            await self._consumer.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()

    async def __aenter__(self) -> LagReader:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        assert self._consumer is not None, "start() first"
        client = self._consumer._client
        await client.force_metadata_update()
        out = []
        for topic in topics:
            for partition in sorted(client.cluster.partitions_for_topic(topic) or ()):
                out.append(TopicPartition(topic, partition))
        return out

    async def _high_watermarks(self, listed: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        """End offsets confirmed by a Fetch at the listed end offset.

        Tansu answers ListOffsets(latest) with the base offset of the last record batch + 1, so a batch of
        five records reads as one. A Fetch at that offset returns the true high watermark. Apache Kafka
        answers such a Fetch at the end of the log with no records, so the check costs nothing there;
        on Tansu it reads one batch, and only for partitions whose listed end moved since the last poll.
        """
        from aiokafka.protocol.fetch import FetchRequest

        assert self._consumer is not None
        client = self._consumer._client
        out: dict[tuple[str, int], int] = {}
        by_node: dict[int, dict[str, list[tuple[int, int, int]]]] = {}
        for tp, end in listed.items():
            cached = self._verified.get(tp)
            if cached is not None and cached[0] == end:
                out[tp] = cached[1]
                continue
            out[tp] = end
            leader = client.cluster.leader_for_partition(TopicPartition(*tp))
            if end > 0 and leader is not None and leader >= 0:
                by_node.setdefault(leader, {}).setdefault(tp[0], []).append((tp[1], end, 1))
        for node, topics in by_node.items():
            # max_wait 10 ms, min_bytes 0, max_bytes 1: Kafka answers at once with no records; Tansu
            # answers nothing at all when max_wait is 0, and one batch otherwise.
            request = FetchRequest(10, 0, 1, 0, list(topics.items()))
            try:
                response = await client.send(node, request)
            except Exception as exc:  # the listed offsets stand; lag may then read low on Tansu
                log.debug("high-watermark fetch from node %s failed: %r", node, exc)
                continue
            for topic, partitions in response.topics:
                for partition, error_code, highwater, *_ in partitions:
                    tp = (topic, partition)
                    if error_code == 0 and highwater >= 0 and tp in listed:
                        out[tp] = max(listed[tp], highwater)
                        self._verified[tp] = (listed[tp], out[tp])
        return out

    async def read(self) -> LagSnapshot:
        """One snapshot: end and start offsets of wirewatch's topics, and every group's commits on them."""
        assert self._admin is not None and self._consumer is not None, "start() first"
        tps = await self.partitions(watched_topics(self.settings))
        ends_raw, starts_raw = {}, {}
        if tps:
            ends_raw = await self._consumer.end_offsets(tps)
            starts_raw = await self._consumer.beginning_offsets(tps)
        ends = await self._high_watermarks({(tp.topic, tp.partition): int(v) for tp, v in ends_raw.items()})
        starts = {(tp.topic, tp.partition): int(v) for tp, v in starts_raw.items()}
        own_topics = set(own_input_topics(self.settings))
        rows: list[LagRow] = []
        for group in self.groups:
            committed: dict[tuple[str, int], int] = {}
            if tps:
                offsets = await self._admin.list_consumer_group_offsets(group, partitions=tps)
                committed = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
            expected = [tp for tp in ends if tp[0] in own_topics] if group == self.settings.app_id else []
            rows += lag_rows(group, committed, ends, starts, expected)
        return LagSnapshot(rows=rows, ends=ends, starts=starts, taken_at=time.time())


async def read_lag(
    settings: Settings, groups: Sequence[str] = (), bootstrap: Sequence[str] | None = None
) -> LagSnapshot:
    """One lag snapshot with short-lived clients (the CLI)."""
    async with LagReader(settings, bootstrap=bootstrap, groups=groups) as reader:
        return await reader.read()
