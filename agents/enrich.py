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
from typing import TYPE_CHECKING, Any

from faust.types import EventT

from wirewatch.streams.records import Article, DeadLetter
from wirewatch.streams.settings import Settings
from wirewatch.streams.validation import InvalidRecord, parse_article

from .alert import findings_by_actor
from .detector import DetectorConfig

if TYPE_CHECKING:
    from wirewatch.streams.app import Pipeline

from wirewatch.streams.app import dead_letter_for

log = logging.getLogger(__name__)
STAGE = "enrich"


def detector_config(settings: Settings) -> DetectorConfig:
    """The detector configuration of a worker (WIREWATCH_ALERT_NON_STATE_ROCKETS, WIREWATCH_SEVERITY_MAP,
    WIREWATCH_ALERT_MODEL); building it loads the alert model, so a bad model file stops start-up."""
    return DetectorConfig(
        alert_non_state_rockets=settings.alert_non_state_rockets,
        severity_map=settings.severity_mapping(),
        alert_model=settings.alert_model,
    )


class EnrichStage:
    """Every input ends as an enriched record or a dead letter, in order, batch by batch.

    Two batches are in flight: while the model analyses batch N, batch N+1 is already validated and
    queued behind it, so the model never waits for the event loop to send N-1's outputs or to collect the
    next records. Outputs are sent in batch order, and a batch's events are acked only once its own
    outputs are on the broker: no offset is ever committed ahead of its output.
    """

    IN_FLIGHT = 2

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        settings = pipeline.settings
        self.detector_config = detector_config(settings)
        self.processed = 0
        self.dead_lettered = 0

    async def run(self, stream: Any) -> None:
        settings = self.pipeline.settings
        in_flight: deque[asyncio.Task[None]] = deque()
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_within):
            good, letters = self.validate(events)
            analysis = asyncio.ensure_future(self._enrich(good, letters))  # queued behind the batch before
            previous = in_flight[-1] if in_flight else None
            in_flight.append(asyncio.ensure_future(self._complete(stream, events, analysis, letters, previous)))
            while len(in_flight) >= self.IN_FLIGHT or (in_flight and in_flight[0].done()):
                await in_flight.popleft()  # re-raises a delivery error: the agent stops, as on any error

    async def _complete(
        self,
        stream: Any,
        events: Sequence[EventT],
        analysis: asyncio.Future[list[dict[str, Any]]],
        letters: list[DeadLetter],
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Send a batch's outputs after the previous batch's, wait for delivery, then ack its events."""
        started = time.perf_counter()
        records = await analysis
        if previous is not None:
            await asyncio.shield(previous)  # order per partition; its error surfaces in run()
        sent = await self.send(records, letters)
        try:
            await asyncio.gather(*sent)
        except Exception:
            log.exception("outputs of a batch of %d were not delivered; its records stay unacked", len(events))
            raise
        for event in events:
            await stream.ack(event)
        log.debug("enriched batch of %d in %.1f ms", len(events), (time.perf_counter() - started) * 1e3)

    def validate(self, events: Sequence[EventT]) -> tuple[list[tuple[EventT, Article]], list[DeadLetter]]:
        settings = self.pipeline.settings
        good: list[tuple[EventT, Article]] = []
        letters: list[DeadLetter] = []
        for event in events:
            try:
                article = parse_article(
                    event.message.value,
                    max_article_bytes=settings.max_article_bytes,
                    max_record_bytes=settings.max_record_bytes,
                )
            except InvalidRecord as exc:
                letters.append(dead_letter_for(event, "validate", exc.reason, exc.detail, exc.article_id))
                continue
            article.meta.setdefault("ingested_at_ms", int(event.message.timestamp * 1000))
            good.append((event, article))
        return good, letters

    async def send(self, records: list[dict[str, Any]], letters: list[DeadLetter]) -> list[asyncio.Future]:
        sent: list[asyncio.Future] = []
        for letter in letters:
            sent.append(await self.pipeline.dead_letter(letter))
            self.dead_lettered += 1
        for record in records:
            sent.append(await self.pipeline.send_json(self.pipeline.enriched, record["id"], record))
            self.processed += 1
        findings = self.pipeline.findings
        if findings is not None:
            # messages of at most half the record limit stay well inside the producer's request limit
            grouped = findings_by_actor(records, max_bytes=self.pipeline.settings.max_record_bytes // 2)
            for actor, envelopes in grouped:
                sent.append(await findings.send(key=actor.encode(), value={"findings": envelopes}))
        return sent

    async def _enrich(self, good: list[tuple[EventT, Article]], letters: list[DeadLetter]) -> list[dict[str, Any]]:
        if not good:
            return []
        analyzer = self.pipeline.analyzer
        articles = [a for _, a in good]
        batch = self.pipeline.settings.batch_size
        try:
            return await analyzer.enrich(articles, batch_size=batch, config=self.detector_config)
        except Exception:
            log.exception("batch of %d failed; retrying article by article", len(articles))
        records: list[dict[str, Any]] = []
        for event, article in good:
            try:
                records += await analyzer.enrich([article], batch_size=1, config=self.detector_config)
            except Exception as exc:  # a poison article: dead-letter it, keep the rest of the batch
                error = f"{type(exc).__name__}: {exc}"
                letters.append(dead_letter_for(event, STAGE, "processing_error", error, article.id))
        return records


def register(pipeline: Pipeline) -> EnrichStage:
    stage = EnrichStage(pipeline)

    @pipeline.app.agent(pipeline.raw, name="enrich")
    async def enrich(stream: Any) -> None:
        await stage.run(stream)

    return stage
