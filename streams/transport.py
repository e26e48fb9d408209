"""Faust's aiokafka transport with the consumer's fetch wait taken from wirewatch's settings, a consumer
that never commits past a record it has not processed (see :class:`_Consumer`), and a Faust worker whose
shutdown is bounded.

faust-streaming creates its consumer with ``fetch_max_wait_ms=1500`` fixed. Apache Kafka answers a fetch
as soon as data arrives, so that only bounds idle polling; Tansu holds every fetch for the full wait,
which put ~1.5 s on every hop of the pipeline (three hops from news.raw to news.alerts). The wait is
WIREWATCH_FETCH_MAX_WAIT_MS here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from faust.transport.drivers import aiokafka as driver
from faust.types import TP, Message
from mode.utils.futures import maybe_cancel

from .broker import retry_retriable
from .settings import Settings

log = logging.getLogger(__name__)

#: How long a topic declaration at start-up is tried again on a retriable broker error.
TOPIC_DECLARE_RETRY_SECONDS = 60.0
#: A stream partition delivers nothing between its assignment and its seek, for at most this long (Faust
#: seeks once table recovery is done; should it never, the partition is not held up for good).
SEEK_WAIT_LIMIT_SECONDS = 300.0


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by aiokafka when the consumer starts and builds its fetcher (after this returns).
        consumer._fetch_max_wait_ms = self.app.conf.wirewatch_fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    """Faust's consumer, with four fixes to its offset bookkeeping; each let a worker commit past records it
    never processed, so a crash or a rebalance afterwards lost them (docs/ARCHITECTURE.md, "The flow of an
    article"; the chaos test, tests/failure/test_chaos.py, found them).

    1. **Records fetched before a partition's seek are not delivered.** After a rebalance Faust resumes the
       stream partitions and only then seeks them back to their committed offsets; records fetched in
       between came from the old position, and Faust read the jump back as a gap in the partition (what
       compaction or transaction markers leave): it counted the offsets in between as done and dropped
       them as already read when they came again. Here a newly assigned stream partition delivers nothing
       until its seek, then nothing fetched before it; gaps recorded before a seek are forgotten. The hold
       lasts through every seek of a perform_seek (Faust's has aiokafka seek before it sets its read offsets)
       and, for a partition paused for table recovery, through the seek Faust's getmany makes when it finds
       the flow stopped, until the seek after its resume. A seek under way for an assignment a rebalance has
       since replaced stops there, and leaves the new assignment's hold alone.
    2. **Every assigned partition is sought.** aiokafka seeks only those with a committed offset above 0;
       the others went on from wherever the fetch had been, past records dropped before.
    3. **A commit never passes the lowest unacknowledged offset.** Faust's test for a hole at the head of
       the acknowledged offsets is off by one, and skipped when nothing is committed yet. An agent that
       acknowledges out of order (the subscriptions agent) could commit past a delivery still under way.
       Faust's gaps (offsets it saw no record for) start one past the committed offset, so a gap at the head
       is never committed over either: on wirewatch's topics (no transactions, no compaction of streams) a
       gap is a delivery anomaly, not missing records, and committing over one lost 11 articles in the chaos
       test. A real gap at the head (transaction markers) would hold that partition's commits instead; either
       way the worker says so once in a warning (docs/ARCHITECTURE.md, the open case).
    4. **Records skipped in the middle of a partition are read again.** A record delivered more than one offset
       past the one before it (no seek between) means the records in between were never delivered, though
       aiokafka's position is past them: Faust would count them as a gap, done, and commit over them. The
       partition is sought back to the first one skipped instead, with a warning naming the offsets; should
       they turn out not to exist (a real gap: the first record fetched after the seek lies beyond it), they
       are committed over as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Stream partitions assigned and not sought yet (monotonic time of the assignment).
        self._awaiting_seek: dict[TP, float] = {}
        #: Per partition, the offset of the last seek until a record from it is delivered.
        self._seek_positions: dict[TP, int] = {}
        #: Per partition, the first offset delivered since its seek (the head when it has no committed offset).
        self._first_delivered: dict[TP, int] = {}
        #: Records dropped as fetched before a seek, per partition, since that seek.
        self._stale_dropped: dict[TP, int] = {}
        #: (partition, committed offset) whose commits a gap at the head holds, already logged.
        self._held_logged: set[tuple[TP, int]] = set()
        #: Per stream partition, the offset the next record delivered must have (one past the last delivered).
        self._next_offsets: dict[TP, int] = {}
        #: aiokafka's position per partition, asked at most once per batch and forgotten with a seek.
        self._batch_positions: dict[TP, int | None] = {}

    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        self.await_seek(assigned)
        await super().on_partitions_assigned(assigned, generation_id)

    def await_seek(self, assigned: set[TP]) -> None:
        """Hold the stream partitions of a new assignment until their seek (changelogs are read by table
        recovery, which seeks them itself)."""
        changelogs, now = self.app.tables.changelog_topics, time.monotonic()
        # A new dict, not the old one refilled: a perform_seek of the previous assignment still under way
        # (seeks wait on the consumer thread, and rebalances overlap them) must not clear this one.
        self._awaiting_seek = {tp: now for tp in assigned if tp.topic not in changelogs}

    async def perform_seek(self) -> None:
        awaiting = self._awaiting_seek  # this assignment's; a rebalance meanwhile puts a new dict in its place
        # Every stream partition is held from here until its own seek below: Faust's perform_seek has aiokafka
        # seek first and sets its read offsets only after, and records handed out in between came from either
        # side of the seek (Faust took what followed for a gap, and dropped the records of the gap when they came).
        now, changelogs = time.monotonic(), self.app.tables.changelog_topics
        for tp in self._assigned():
            if tp.topic not in changelogs:
                awaiting.setdefault(tp, now)
        await super().perform_seek()
        if self._awaiting_seek is not awaiting:
            return  # revoked or assigned again meanwhile: the new assignment's own perform_seek seeks it
        # Faust set its read offsets to the committed ones (None for none); no await since.
        committed = {tp: self._read_offset.get(tp) for tp in awaiting}
        self._seek_positions = {tp: offset for tp, offset in self._read_offset.items() if offset}
        for tp in set(awaiting) | set(self._seek_positions):
            self._gap.pop(tp, None)  # recorded from records fetched before the seek: the partition is read again
        self._first_delivered.clear()
        self._stale_dropped.clear()
        self._next_offsets.clear()  # aiokafka sought them all: each one's next record is judged by its seek
        self._batch_positions.clear()
        # Sought again, each one, here: aiokafka skipped those without a committed offset above 0, and records
        # fetched after its seek but before this point were dropped above as awaiting it.
        for tp, offset in committed.items():
            if self._awaiting_seek is not awaiting:
                return  # a rebalance began: its assignment is sought by its own perform_seek
            if tp in self._paused_partitions:
                # Table recovery under way (Faust's getmany seeks when the flow stops, as it does then): the
                # partition stays held, and is sought by the perform_seek that follows its resume.
                continue
            try:
                await self.seek(tp, offset or 0)
            except Exception as exc:  # revoked meanwhile: its next owner reads it from the committed offset
                log.warning("%s: seek to offset %s failed: %r", tp, offset or 0, exc)
            awaiting.pop(tp, None)

    def _assigned(self) -> set[TP]:
        """The partitions assigned to this consumer (none before it has started)."""
        try:
            return set(self.assignment())
        except ConsumerNotStarted:
            return set()

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self._seek_positions[partition] = offset
        self._first_delivered.pop(partition, None)
        self._stale_dropped.pop(partition, None)
        self._next_offsets.pop(partition, None)
        self._batch_positions.pop(partition, None)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._awaiting_seek = {tp: t for tp, t in self._awaiting_seek.items() if tp not in revoked}  # see perform_seek
        for tp in revoked:
            self._seek_positions.pop(tp, None)
            self._first_delivered.pop(tp, None)
            self._next_offsets.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        self._batch_positions = {}  # aiokafka's positions move only between batches (or with a seek)
        positions = self._batch_positions
        async for tp, message in super().getmany(timeout):
            if await self._fetched_before_seek(tp, message.offset, positions):
                if self._stale_dropped.get(tp, 0) == 0:
                    log.info("%s: records from offset %d on were fetched before its seek: dropped", tp, message.offset)
                self._stale_dropped[tp] = self._stale_dropped.get(tp, 0) + 1
                continue
            expected = self._next_offsets.get(tp)
            if expected is not None and message.offset > expected and self._reads_again(tp):
                # Records expected..offset-1 were skipped: never handed to Faust, yet aiokafka's position is past
                # them. Faust would count them as a gap, done, and commit over them. Read them again instead.
                log.warning(
                    "%s: offsets %d-%d were skipped (offset %d came after %d); reading them again",
                    tp,
                    expected,
                    message.offset - 1,
                    message.offset,
                    expected - 1,
                )
                await self._read_again(tp, expected)
                continue
            if expected is None or message.offset >= expected:
                self._next_offsets[tp] = message.offset + 1
            self._first_delivered.setdefault(tp, message.offset)  # in offset order: the lowest since the seek
            yield tp, message

    def _reads_again(self, tp: TP) -> bool:
        """Is a skip on this partition read again? Stream partitions whose offsets are committed, yes; table
        changelogs (compacted, read by recovery, which keeps its own offsets) no."""
        return tp.topic not in self.app.tables.changelog_topics and self.app.topics.acks_enabled_for(tp.topic)

    async def _read_again(self, tp: TP, offset: int) -> None:
        """Seek ``tp`` back to ``offset``, the first record skipped (those before it stay delivered). Faust's read
        offset is set to the last record delivered, so should the records there not exist after all (the first
        record fetched after the seek lies beyond ``offset``: a real gap, such as transaction markers leave), Faust
        records the gap from ``offset`` on and commits over it."""
        try:
            await super().seek(tp, offset)  # aiokafka's position, and Faust's read offset (set again below)
        except Exception as exc:  # revoked meanwhile: its next owner reads it from the committed offset
            log.warning("%s: seek back to offset %d failed: %r", tp, offset, exc)
            return
        self._read_offset[tp] = offset - 1 if offset else None
        self._seek_positions[tp] = offset
        self._stale_dropped.pop(tp, None)
        self._next_offsets.pop(tp, None)
        self._batch_positions.pop(tp, None)

    async def _fetched_before_seek(self, tp: TP, offset: int, positions: dict[TP, int | None]) -> bool:
        """Is this record from a batch fetched before the partition's seek? Until the seek after its assignment,
        every record is. After it, the first record is at the seek's offset, or (after a real gap) beyond
        it but below aiokafka's position, which moves on only as batches are handed out: a record at or
        beyond that position was fetched before the seek."""
        assigned_at = self._awaiting_seek.get(tp)
        if assigned_at is not None:
            if time.monotonic() - assigned_at < SEEK_WAIT_LIMIT_SECONDS:
                return True
            log.warning(
                "%s: no seek %.0f s after its assignment; delivering from the fetch position",
                tp,
                SEEK_WAIT_LIMIT_SECONDS,
            )
            del self._awaiting_seek[tp]
        expected = self._seek_positions.get(tp)
        if expected is None or offset < expected:
            return False  # below the seek's offset Faust drops it itself (under its read offset)
        if offset > expected:
            if tp not in positions:
                try:
                    positions[tp] = await self.position(tp)
                except Exception:  # no longer assigned: its new owner reads it from the committed offset
                    positions[tp] = None
                    return True
            position = positions[tp]
            if position is None or offset >= position:
                return True
        del self._seek_positions[tp]
        self._stale_dropped.pop(tp, None)
        return False

    def _new_offset(self, tp: TP) -> int | None:
        head = self._committed_offset[tp]
        if head is None:
            head = self._first_delivered.get(tp)
        acked, gaps = self._acked[tp], self._gap[tp]
        if head is not None and acked:
            lowest = min(min(acked), gaps.begin()) if gaps else min(acked)
            if lowest > head:
                if gaps and gaps.begin() <= head + 1:  # Faust's gaps start one past the offset they follow
                    self._log_held(tp, head, min(acked))
                return None  # the record at ``head`` is not acknowledged yet: nothing to commit
        return super()._new_offset(tp)

    def _log_held(self, tp: TP, head: int, next_acked: int) -> None:
        """Say once that a gap at the head holds a partition's commits: the records in it were never delivered
        here (later ones were), and only the partition's next owner, or this worker after a restart, reads them."""
        if (tp, head) in self._held_logged:
            return
        self._held_logged.add((tp, head))
        log.warning(
            "%s: offsets %d-%d were never delivered (later ones were); its commits wait at %d until the "
            "partition's next owner or a restart reads them again",
            tp,
            head,
            next_acked - 1,
            head,
        )


class _Transport(driver.Transport):
    Consumer = _Consumer

    async def _create_topic(
        self, owner: Any, client: Any, topic: str, partitions: int, replication: int, **kwargs: Any
    ) -> None:
        # Faust declares every topic when the worker starts; a broker of the cluster restarting in that
        # moment fails the request with a retriable error, and the worker would exit: wait for it instead.
        create = super()._create_topic
        await retry_retriable(
            lambda: create(owner, client, topic, partitions, replication, **kwargs),
            f"declaring topic {topic}",
            TOPIC_DECLARE_RETRY_SECONDS,
            log,
        )


class App(faust.App):
    """faust.App using the transport above; ``fetch_max_wait_ms`` is the consumer's fetch wait."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 50, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conf.wirewatch_fetch_max_wait_ms = fetch_max_wait_ms

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def broker_credentials(settings: Settings) -> Any:
    """The ``broker_credentials`` value for faust.App (None for PLAINTEXT)."""
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            ssl_context=settings.ssl_context(),
            mechanism=settings.sasl_mechanism,
        )
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(settings.ssl_context())
    return None


class Worker(faust.Worker):
    """faust.Worker whose stop on SIGTERM/SIGINT is bounded by ``shutdown_timeout`` seconds.

    Faust's stop waits until every event a stream took is acknowledged (``wait_empty``): after an agent
    crashed, or while a batch is stuck (a hung model, a broker that is gone), that is never. Past the bound
    the worker logs what it was waiting for and stops waiting for those events: it commits what was
    acknowledged and stops as usual, so the records not acknowledged are processed again by the next owner
    of their partitions (at least once). Should the rest of the stop hang as well, the process exits after
    a second bound.
    """

    def __init__(self, app: faust.App, *args: Any, shutdown_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self.shutdown_timeout = shutdown_timeout

    async def _stop_on_signal(self, signal: signal.Signals) -> None:
        self.log.info("Signal received: %s (%s)", signal, signal.value)
        stopping = asyncio.ensure_future(self.stop())
        done, _ = await asyncio.wait([stopping], timeout=self.shutdown_timeout)
        if not done:
            log.error(
                "shutdown not finished after %.0f s (WIREWATCH_SHUTDOWN_TIMEOUT): %s; stopping without them "
                "(records not acknowledged are processed again after a restart)",
                self.shutdown_timeout,
                self.pending_work(),
            )
            self.abandon_unacked()
            done, _ = await asyncio.wait([stopping], timeout=self.shutdown_timeout)
        if not done:
            log.critical("the worker did not stop within twice WIREWATCH_SHUTDOWN_TIMEOUT; exiting now")
            logging.shutdown()
            os._exit(1)
        maybe_cancel(self._starting_fut)

    def pending_work(self) -> str:
        """What the stop is waiting for, as far as Faust shows it (its own attributes; best effort)."""
        unacked = len(getattr(self.app._consumer, "_unacked_messages", ()) or ())
        crashed = [
            f"agent {agent.name} crashed ({actor.crash_reason!r})"
            for agent in self.app.agents.values()
            for actor in getattr(agent, "_actors", ())
            if actor.crash_reason is not None
        ]
        return ", ".join([f"{unacked} events taken but not acknowledged", *crashed])

    def abandon_unacked(self) -> None:
        """Let Faust's ``wait_empty`` end: it waits until this set of unacknowledged events is empty. Their
        offsets stay uncommitted (Faust commits acknowledged offsets only)."""
        unacked = getattr(self.app._consumer, "_unacked_messages", None)
        if unacked is not None:
            unacked.clear()
