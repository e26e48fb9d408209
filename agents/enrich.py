"""The enrich agent: ``news.raw`` → validate → batched spaCy analysis → ``news.enriched``, and the
alertable findings → the alert agent's findings-by-actor topic.

Thin on purpose: validation lives in ``streams.validation`` and the analysis in ``agents.enrichment``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faust.types import EventT, TopicT

from wirewatch.streams.priority import Handoff, Origin, is_priority, origin_of
from wirewatch.streams.records import Article, DeadLetter, dumps
from wirewatch.streams.settings import Settings
from wirewatch.streams.validation import InvalidRecord, parse_article

from .alert import findings_by_actor
from .detector import DetectorConfig

if TYPE_CHECKING:
    from wirewatch.streams.pipeline import Pipeline

from wirewatch.streams.pipeline import RETRY_FIRST_S, RETRY_MAX_S, dead_letter_for, refused_for_itself

log = logging.getLogger(__name__)
STAGE = "enrich"

#: A dead letter the broker refuses for its size is sent again with half the room, down to this.
MIN_DEAD_LETTER_BYTES = 4096


def detector_config(settings: Settings) -> DetectorConfig:
    """The detector configuration of a worker (WIREWATCH_ALERT_NON_STATE_ROCKETS, WIREWATCH_SEVERITY_MAP,
    WIREWATCH_ALERT_MODEL); building it loads the alert model, so a bad model file stops start-up."""
    return DetectorConfig(
        alert_non_state_rockets=settings.alert_non_state_rockets,
        severity_map=settings.severity_mapping(),
        alert_model=settings.alert_model,
    )


@dataclass
class Output:
    """One message of a batch's outputs: an enriched record (``event`` set: the input it stands for), a
    dead letter (``letter`` set, sent within ``room`` bytes) or a findings message."""

    topic: TopicT
    key: bytes | None
    value: bytes
    event: EventT | None = None
    letter: DeadLetter | None = None
    room: int = 0


class EnrichStage:
    """Every input ends as an enriched record or a dead letter, in order, batch by batch.

    Two batches are in flight: while the model analyses batch N, batch N+1 is already validated and
    queued behind it, so the model never waits for the event loop to send N-1's outputs or to collect the
    next records. Outputs are sent in batch order, and a batch's events are acked only once its own
    outputs are on the broker: no offset is ever committed ahead of its output.

    No input stops the agent: a record that fails validation, analysis or encoding, or whose output the
    broker refuses for its size, is dead-lettered; a broker outage is retried, its batch kept unacked.
    """

    IN_FLIGHT = 2

    def __init__(self, pipeline: Pipeline, handoff: Handoff | None = None, priority: bool = False) -> None:
        """``handoff`` set: the priority lane is on. The ordinary stage (``priority`` false) then leaves the
        records the router copies to the priority stage and acks them once their copy's outputs are sent
        (see streams/priority.py); the priority stage reads the copies and reports each one done."""
        self.pipeline = pipeline
        settings = pipeline.settings
        self.detector_config = detector_config(settings)
        self.handoff = handoff
        self.priority = priority
        self.processed = 0
        self.dead_lettered = 0

    async def run(self, stream: Any) -> None:
        settings = self.pipeline.settings
        in_flight: deque[asyncio.Task[None]] = deque()
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_within):
            good, letters = self.validate(events)
            good, handed_off = self.hand_off(good)
            analysis = asyncio.ensure_future(self._enrich(good, letters))  # queued behind the batch before
            if handed_off:
                analysis = asyncio.ensure_future(self._after_handoff(analysis, handed_off, letters))
            previous = in_flight[-1] if in_flight else None
            in_flight.append(asyncio.ensure_future(self._complete(stream, events, analysis, letters, previous)))
            while len(in_flight) >= self.IN_FLIGHT or (in_flight and in_flight[0].done()):
                await in_flight.popleft()  # never raises: deliver() retries until every output is sent

    async def _complete(
        self,
        stream: Any,
        events: Sequence[EventT],
        analysis: asyncio.Future[list[tuple[EventT, dict[str, Any]]]],
        letters: list[DeadLetter],
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Send a batch's outputs after the previous batch's, wait for delivery, then ack its events."""
        started = time.perf_counter()
        enriched = await analysis
        if previous is not None:
            await asyncio.shield(previous)  # order per partition
        try:
            outputs = self.outputs(enriched, letters)
        except Exception:  # a bug must not stop the agent: encode record by record, dead-letter what fails
            log.exception("outputs of a batch of %d failed; encoding them one by one", len(events))
            outputs = self.outputs([], letters)
            for event, record in enriched:
                try:
                    outputs += self.outputs([(event, record)], [])
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    outputs += self.outputs([], [dead_letter_for(event, STAGE, "processing_error", error)])
        await self.deliver(outputs)
        if self.priority and self.handoff is not None:
            for event in events:
                origin = origin_of(event.message.headers)
                if origin is not None:
                    self.handoff.finish(origin)
        for event in events:
            await stream.ack(event)
        log.debug("enriched batch of %d in %.1f ms", len(events), (time.perf_counter() - started) * 1e3)

    def hand_off(
        self, good: list[tuple[EventT, Article]]
    ) -> tuple[list[tuple[EventT, Article]], list[tuple[EventT, Article, Origin]]]:
        """Ordinary stage with the lane on: split off the articles the router copies to the priority lane."""
        if self.priority or self.handoff is None:
            return good, []
        kept, handed_off = [], []
        for event, article in good:
            if is_priority(article):
                message = event.message
                handed_off.append((event, article, (message.topic, message.partition, message.offset)))
            else:
                kept.append((event, article))
        return kept, handed_off

    async def _after_handoff(
        self,
        analysis: asyncio.Future[list[tuple[EventT, dict[str, Any]]]],
        handed_off: list[tuple[EventT, Article, Origin]],
        letters: list[DeadLetter],
    ) -> list[tuple[EventT, dict[str, Any]]]:
        """The batch's analysis, plus the handed-off articles whose copy did not come in time (enriched here)."""
        assert self.handoff is not None
        enriched = await analysis
        came = await asyncio.gather(*(self.handoff.wait(origin) for _, _, origin in handed_off))
        missing = [(event, article) for (event, article, _), done in zip(handed_off, came, strict=True) if not done]
        if missing:
            log.warning("%d article(s) not done by the priority lane in time: enriching them here", len(missing))
            enriched += await self._enrich(missing, letters)
        return enriched

    def validate(self, events: Sequence[EventT]) -> tuple[list[tuple[EventT, Article]], list[DeadLetter]]:
        settings = self.pipeline.settings
        good: list[tuple[EventT, Article]] = []
        letters: list[DeadLetter] = []
        for event in events:
            origin = origin_of(event.message.headers) if self.priority else None
            if origin is not None and self.handoff is not None and self.handoff.done(origin):
                continue  # the ordinary stage did the original: acked without output
            try:
                article = parse_article(
                    event.message.value,
                    max_article_bytes=settings.max_article_bytes,
                    max_record_bytes=settings.max_record_bytes,
                )
            except InvalidRecord as exc:
                letters.append(dead_letter_for(event, "validate", exc.reason, exc.detail, exc.article_id))
                continue
            except Exception as exc:  # a validation bug must cost one record, not the agent
                log.exception("validation failed unexpectedly")
                letters.append(dead_letter_for(event, "validate", "processing_error", f"{type(exc).__name__}: {exc}"))
                continue
            article.meta.setdefault("ingested_at_ms", int(event.message.timestamp * 1000))
            good.append((event, article))
        return good, letters

    def outputs(self, enriched: list[tuple[EventT, dict[str, Any]]], letters: list[DeadLetter]) -> list[Output]:
        """A batch's messages, encoded: an enriched record that cannot be encoded, or that would exceed the
        record limit, becomes its input's dead letter instead (and raises no findings)."""
        pipeline, limit = self.pipeline, self.pipeline.settings.max_record_bytes
        letters = list(letters)
        records: list[Output] = []
        accepted: list[dict[str, Any]] = []
        for event, record in enriched:
            key = str(record["id"]).encode("utf-8")
            try:
                value = dumps(record)
            except (TypeError, ValueError) as exc:  # validation keeps this from happening; still never fatal
                letters.append(dead_letter_for(event, STAGE, "processing_error", f"not encodable: {exc}", record["id"]))
                continue
            if len(key) + len(value) > limit:
                error = f"the enriched record is {len(key) + len(value)} bytes, over the {limit}-byte record limit"
                letters.append(dead_letter_for(event, STAGE, "too_large", error, record["id"]))
                continue
            records.append(Output(pipeline.enriched, key, value, event=event))
            accepted.append(record)
        out = [self.letter_output(letter, limit) for letter in letters] + records
        if pipeline.findings is not None:
            # messages of at most half the record limit stay well inside the producer's request limit
            for actor, envelopes in findings_by_actor(accepted, max_bytes=limit // 2):
                out.append(Output(pipeline.findings, actor.encode(), dumps({"findings": envelopes})))
        return out

    def letter_output(self, letter: DeadLetter, room: int) -> Output:
        return Output(self.pipeline.deadletter, letter.key, b"", letter=letter, room=room)

    async def _send(self, output: Output) -> asyncio.Future:
        """Queue one message on the producer; its delivery future (failed at once if it was not queued)."""
        try:
            if output.letter is not None:
                return await self.pipeline.dead_letter(output.letter, max_bytes=output.room)
            return await output.topic.send(key=output.key, value=output.value, value_serializer="raw")
        except Exception as exc:
            failed: asyncio.Future = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def deliver(self, outputs: list[Output]) -> None:
        """Send ``outputs`` and wait until every one is on the broker (or replaced by a dead letter that
        is). A message the broker refuses for itself is replaced: an enriched record by its input's dead
        letter, a dead letter by a shorter one. Any other error is retried with backoff, for as long as it
        takes: the batch stays unacked meanwhile, so its offsets are never committed past it."""
        delay = RETRY_FIRST_S
        pending = outputs
        while pending:
            futures = [await self._send(output) for output in pending]  # queued in order
            results = await asyncio.gather(*futures, return_exceptions=True)
            again: list[Output] = []
            retried = False
            for output, result in zip(pending, results, strict=True):
                if not isinstance(result, BaseException):
                    if output.letter is not None:
                        self.dead_lettered += 1
                    elif output.event is not None:
                        self.processed += 1
                    continue
                replacement = self.replacement(output, result) if refused_for_itself(result) else None
                if replacement is None:
                    retried = True
                    log.warning("send to %s failed (%r); retrying", output.topic.get_topic_name(), result)
                    replacement = [output]
                again += replacement
            if retried:
                await asyncio.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_S)
            pending = again

    def replacement(self, output: Output, error: BaseException) -> list[Output] | None:
        """What to send instead of a message the broker refused for itself: [] for nothing, None to retry it
        as it is (a dead letter already as short as it gets)."""
        if output.letter is not None:
            return (
                [self.letter_output(output.letter, output.room // 2)] if output.room > MIN_DEAD_LETTER_BYTES else None
            )
        if output.event is not None:
            error_text = f"news.enriched refused the record: {error!r}"
            article_id = (output.key or b"").decode("utf-8", "replace")
            letter = dead_letter_for(output.event, STAGE, "too_large", error_text, article_id)
            return [self.letter_output(letter, self.pipeline.settings.max_record_bytes)]
        # Findings messages stay within half the record limit; one refused all the same is not retried.
        log.error("findings message of %d bytes refused, not sent: %r", len(output.value), error)
        return []

    async def _enrich(
        self, good: list[tuple[EventT, Article]], letters: list[DeadLetter]
    ) -> list[tuple[EventT, dict[str, Any]]]:
        if not good:
            return []
        analyzer = self.pipeline.analyzer
        articles = [a for _, a in good]
        batch = self.pipeline.settings.batch_size
        try:
            records = await analyzer.enrich(articles, batch_size=batch, config=self.detector_config)
            return [(event, record) for (event, _), record in zip(good, records, strict=True)]
        except Exception:
            log.exception("batch of %d failed; retrying article by article", len(articles))
        enriched: list[tuple[EventT, dict[str, Any]]] = []
        for event, article in good:
            try:
                enriched += [
                    (event, r) for r in await analyzer.enrich([article], batch_size=1, config=self.detector_config)
                ]
            except Exception as exc:  # a poison article: dead-letter it, keep the rest of the batch
                error = f"{type(exc).__name__}: {exc}"
                letters.append(dead_letter_for(event, STAGE, "processing_error", error, article.id))
        return enriched


def register(pipeline: Pipeline, handoff: Handoff | None = None) -> EnrichStage:
    """The enrich agent on news.raw and, on news.raw.priority, its priority stage: a second agent, so its
    batches reach the model behind at most the ordinary stage's batches in flight, never its backlog."""
    stage = EnrichStage(pipeline, handoff)

    @pipeline.app.agent(pipeline.raw, name="enrich")
    async def enrich(stream: Any) -> None:
        await stage.run(stream)

    if pipeline.priority is not None:
        priority_stage = EnrichStage(pipeline, handoff, priority=True)

        @pipeline.app.agent(pipeline.priority, name="enrich-priority")
        async def enrich_priority(stream: Any) -> None:
            await priority_stage.run(stream)

    return stage
