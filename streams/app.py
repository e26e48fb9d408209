"""The composition root: the one faust.App and the topics of the catalog, wired to the agents in
``agents/``, the sinks and the web server. Nothing but the CLI imports this module (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.types import TopicT
from spacy.language import Language

from wirewatch.agents import alert as alert_agent
from wirewatch.agents import enrich as enrich_agent
from wirewatch.agents.analyzer import analyzer_for, load_nlp

from .archive import register_archive
from .feeds.push import register_push
from .health import register_health
from .pipeline import Pipeline
from .priority import Handoff, register_router
from .settings import Settings
from .sinks import SinkSet, load_sinks
from .sinks.agent import register_sinks
from .store import open_store
from .subscriptions.agent import register_subscriptions
from .subscriptions.router import SubscriptionRouter
from .subscriptions.store import SubscriptionStore, load_file
from .topics import ALERTS, DEADLETTER, ENRICHED, INCIDENTS, PRIORITY, RAW
from .transport import App as WirewatchApp
from .transport import Worker, broker_credentials
from .web import register_dashboard
from .web.archive import register_archive_routes
from .web.subscriptions import register_subscription_routes


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


def create_pipeline(
    settings: Settings,
    nlp_loader: Callable[[], Language] | None = None,
    sinks: list[SinkSet] | None = None,
) -> Pipeline:
    """Build the app for ``settings`` (with a resolved ``broker``) and register every agent. ``sinks``
    default to :func:`load_sinks` of ``settings`` (which raises a SettingsError for a bad sink file)."""
    if sinks is None:
        sinks = load_sinks(settings)
    subscriptions_file = load_file(settings.subscriptions) if settings.subscriptions else []
    app = WirewatchApp(
        settings.app_id,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        broker=settings.faust_broker,
        broker_credentials=broker_credentials(settings),
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
        # Faust's own pages (table data, cluster routing, statistics) are not wirewatch's: off.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
    )
    pipeline = Pipeline(
        settings=settings,
        app=app,
        raw=_raw_topic(app, RAW, settings),
        priority=_raw_topic(app, PRIORITY, settings),
        enriched=_raw_topic(app, ENRICHED, settings),
        alerts=_raw_topic(app, ALERTS, settings),
        incidents=_raw_topic(app, INCIDENTS, settings, compacting=True),
        deadletter=_raw_topic(app, DEADLETTER, settings),
        analyzer=analyzer_for(settings, nlp_loader or (lambda: load_nlp(settings))),
    )
    enrich_agent.register(pipeline, Handoff() if settings.priority_lane else None)
    if settings.priority_lane:
        register_router(pipeline)
    alert_agent.register(pipeline)
    pipeline.push = register_push(pipeline, settings.api_token or None, settings.ingest_max_bytes)
    for sink_set in sinks:
        register_sinks(pipeline, sink_set)
    # Also serves /metrics; must be registered before the web server starts (it owns "/").
    dashboard = register_dashboard(pipeline, settings.api_token or None)
    # The archive (issue 17): its consumer group feeds the store; its API sits behind the dashboard's gate.
    store = open_store(settings)
    register_archive(pipeline, store)
    register_archive_routes(pipeline, store)
    router, subscription_store = SubscriptionRouter(settings), SubscriptionStore(settings)
    register_subscriptions(pipeline, router, subscription_store, subscriptions_file)
    register_subscription_routes(app, router, subscription_store, dashboard)
    pipeline.health = register_health(pipeline, lambda: dashboard.lag)
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
    settings = pipeline.settings
    worker = Worker(pipeline.app, loglevel=settings.log_level, quiet=True, shutdown_timeout=settings.shutdown_timeout)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        pipeline.analyzer.close()
    if pipeline.health is not None and pipeline.health.exit_code is not None:
        raise SystemExit(pipeline.health.exit_code)  # stopped by the watchdog: a supervisor restarts it
