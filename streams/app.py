"""The one faust.App and the topics of the catalog, wired to the agents in ``agents/``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import EventT, TopicT
from spacy.language import Language

from wirewatch.agents.analyzer import Analyzer, analyzer_for, load_nlp

from .records import DeadLetter, dumps
from .settings import Settings
from .topics import ALERTS, DEADLETTER, ENRICHED, INCIDENTS, RAW
from .transport import App as WirewatchApp

log = logging.getLogger(__name__)


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
    findings: TopicT | None = None  # internal: alertable findings keyed by actor (set by agents.alert)
    feed_runner: Any = None  # streams.feeds.runner.FeedRunner when the worker runs feeds
    push: Any = None  # streams.feeds.push.PushIngest (POST /api/ingest)

    async def send_json(self, topic: TopicT, key: bytes | str | None, value: dict[str, Any]) -> asyncio.Future:
        """Send ``value`` (orjson) and return the delivery future: await it before acking the input."""
        if isinstance(key, str):
            key = key.encode("utf-8")
        return await topic.send(key=key, value=dumps(value))

    async def dead_letter(self, letter: DeadLetter) -> asyncio.Future:
        """Write a DeadLetter keyed by the original key; counted and logged, never silent."""
        log.warning(
            "dead letter: stage=%s reason=%s error=%s (topic=%s partition=%s offset=%s)",
            letter.stage,
            letter.reason,
            letter.error[:200],
            letter.topic,
            letter.partition,
            letter.offset,
        )
        return await self.deadletter.send(key=letter.original_key, value=letter.to_bytes())


def dead_letter_for(
    event: EventT, stage: str, reason: str, error: str, article_id: str | None = None
) -> DeadLetter:
    """A DeadLetter for the record behind a Faust event: its original bytes, key and position."""
    message = event.message
    return DeadLetter(
        stage=stage,
        reason=reason,
        error=error,
        original=message.value if isinstance(message.value, bytes) else b"",
        original_key=message.key if isinstance(message.key, bytes) else None,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        article_id=article_id,
    )


def _raw_topic(app: faust.App, name: str, settings: Settings, **extra: Any) -> TopicT:
    # Values stay bytes: wirewatch validates and decodes them itself (orjson), so a bad record becomes
    # a dead letter with its original bytes instead of a serializer crash inside Faust.
    return app.topic(
        settings.topic(name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
        replicas=settings.replication_factor,
        allow_empty=True,
        **extra,
    )


def create_pipeline(settings: Settings, nlp_loader: Callable[[], Language] | None = None) -> Pipeline:
    """Build the app for ``settings`` (with a resolved ``broker``) and register every agent."""
    from wirewatch.agents import alert as alert_agent
    from wirewatch.agents import enrich as enrich_agent

    from .feeds.push import register_push
    from .web import register_dashboard

    app = WirewatchApp(
        settings.app_id,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        broker=settings.faust_broker,
        broker_credentials=settings.faust_credentials(),
        broker_rebalance_timeout=settings.rebalance_timeout,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.session_timeout / 4),
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=settings.max_record_bytes + 65536,
        consumer_max_fetch_size=max(4 * 1024 * 1024, settings.max_record_bytes + 65536),
        producer_acks=-1,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        store="memory://",
        datadir=str(settings.data_path / "faust"),
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
    )
    pipeline = Pipeline(
        settings=settings,
        app=app,
        raw=_raw_topic(app, RAW, settings),
        enriched=_raw_topic(app, ENRICHED, settings),
        alerts=_raw_topic(app, ALERTS, settings),
        incidents=_raw_topic(app, INCIDENTS, settings, compacting=True),
        deadletter=_raw_topic(app, DEADLETTER, settings),
        analyzer=analyzer_for(settings, nlp_loader or (lambda: load_nlp(settings))),
    )
    enrich_agent.register(pipeline)
    alert_agent.register(pipeline)
    pipeline.push = register_push(pipeline, settings.api_token or None, settings.ingest_max_bytes)
    if settings.webhooks:
        from .sinks.webhook import register_webhooks

        register_webhooks(pipeline)
    # Also serves /metrics; must be registered before the web server starts (it owns "/").
    register_dashboard(pipeline, settings.api_token or None)
    return pipeline


def internal_topics(app: faust.App) -> dict[str, dict[str, str]]:
    """The app's own topics (table changelogs, repartition topics) with their configs, so they can be
    created and seen in metadata before the worker subscribes."""
    topics: dict[str, dict[str, str]] = {}
    for table in app.tables.values():
        topics[table.changelog_topic.get_topic_name()] = {"cleanup.policy": "compact"}
    for agent in app.agents.values():
        channel = agent.channel
        if getattr(channel, "internal", False):
            topics[channel.get_topic_name()] = {}
    return topics


def run_worker(pipeline: Pipeline) -> None:
    """Run the worker until SIGINT/SIGTERM (blocks). The model is loaded before the worker joins."""
    pipeline.analyzer.start()
    worker = faust.Worker(pipeline.app, loglevel=pipeline.settings.log_level, quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        pipeline.analyzer.close()
