"""The enrich agent: ``news.raw`` → validate → batched spaCy analysis → ``news.enriched``, and the
alertable findings → the alert agent's findings-by-actor topic.

Thin on purpose: validation lives in ``streams.validation`` and the analysis in ``agents.enrichment``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from faust.types import EventT

from wirewatch.streams.records import Article
from wirewatch.streams.settings import Settings
from wirewatch.streams.validation import InvalidRecord, parse_article

from .alert import finding_envelopes
from .detector import DetectorConfig
from .enrichment import enrich_articles

if TYPE_CHECKING:
    from wirewatch.streams.app import Pipeline

from wirewatch.streams.app import dead_letter_for

log = logging.getLogger(__name__)
STAGE = "enrich"


def detector_config(settings: Settings) -> DetectorConfig:
    """The detector configuration of a worker (WIREWATCH_ALERT_NON_STATE_ROCKETS, WIREWATCH_SEVERITY_MAP)."""
    return DetectorConfig(
        alert_non_state_rockets=settings.alert_non_state_rockets, severity_map=settings.severity_mapping()
    )


class EnrichStage:
    """One batch at a time: every input ends as an enriched record or a dead letter."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        settings = pipeline.settings
        self.detector_config = detector_config(settings)
        self.processed = 0
        self.dead_lettered = 0

    async def process(self, events: Sequence[EventT]) -> None:
        settings = self.pipeline.settings
        pending: list[asyncio.Future] = []
        good: list[tuple[EventT, Article]] = []
        for event in events:
            try:
                article = parse_article(
                    event.message.value,
                    max_article_bytes=settings.max_article_bytes,
                    max_record_bytes=settings.max_record_bytes,
                )
            except InvalidRecord as exc:
                pending.append(
                    await self.pipeline.dead_letter(
                        dead_letter_for(event, "validate", exc.reason, exc.detail, exc.article_id)
                    )
                )
                self.dead_lettered += 1
                continue
            article.meta.setdefault("ingested_at_ms", int(event.message.timestamp * 1000))
            good.append((event, article))

        findings = self.pipeline.findings
        for record in await self._enrich(good, pending):
            pending.append(await self.pipeline.send_json(self.pipeline.enriched, record["id"], record))
            if findings is not None:
                for envelope in finding_envelopes(record):
                    actor = envelope["finding"].get("actor") or ""
                    pending.append(await findings.send(key=actor.encode(), value=envelope))
            self.processed += 1
        # Delivery before ack: take_events acks the batch only after this returns, so an offset is
        # never committed for a record whose output is not on the broker.
        await asyncio.gather(*pending)

    async def _enrich(
        self, good: list[tuple[EventT, Article]], pending: list[asyncio.Future]
    ) -> list[dict[str, Any]]:
        if not good:
            return []
        nlp = self.pipeline.nlp
        articles = [a for _, a in good]
        batch = self.pipeline.settings.batch_size
        try:
            # spaCy holds the CPU for the whole batch: a worker thread keeps heartbeats and the web
            # server responsive meanwhile.
            return await asyncio.to_thread(
                enrich_articles, nlp, articles, batch_size=batch, config=self.detector_config
            )
        except Exception:
            log.exception("batch of %d failed; retrying article by article", len(articles))
        records: list[dict[str, Any]] = []
        for event, article in good:
            try:
                records += await asyncio.to_thread(
                    enrich_articles, nlp, [article], batch_size=1, config=self.detector_config
                )
            except Exception as exc:  # a poison article: dead-letter it, keep the rest of the batch
                pending.append(
                    await self.pipeline.dead_letter(
                        dead_letter_for(event, STAGE, "processing_error", f"{type(exc).__name__}: {exc}", article.id)
                    )
                )
                self.dead_lettered += 1
        return records


def register(pipeline: Pipeline) -> EnrichStage:
    stage = EnrichStage(pipeline)
    settings = pipeline.settings

    @pipeline.app.agent(pipeline.raw, name="enrich")
    async def enrich(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within):
            started = time.perf_counter()
            await stage.process(events)
            log.debug("enriched batch of %d in %.1f ms", len(events), (time.perf_counter() - started) * 1e3)

    return stage
