"""wirewatch's Prometheus metrics, the Faust sensor that feeds them, and the one ``/metrics`` page.

wirewatch's own metrics live in a registry of their own (:data:`REGISTRY`), so importing wirewatch never
touches ``prometheus_client``'s global registry. Faust's Prometheus monitor gets a registry per app (a
test may build several apps in one process); ``/metrics`` serves both, one after the other.

Counting needs no calls in the agents: :class:`StageSensor` is a Faust sensor that sees every record a
worker consumes from ``news.raw`` and every record it sends to ``news.enriched``, ``news.alerts`` and
``news.deadletter``, and counts from those (alert kind/severity and dead-letter stage/reason are read from
the records, which are small and rare). The helpers :func:`article`, :func:`alert`, :func:`dead_letter`,
:func:`feed_error` and :func:`stage_time` are for code outside those topics (feeds, sinks, benches).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from faust import Sensor
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from faust.types import TP, AppT, Message, PendingMessage

    from .pipeline import Pipeline

#: wirewatch's registry (never prometheus_client's global one).
REGISTRY = CollectorRegistry(auto_describe=True)

#: Seconds: spaCy batches take milliseconds to seconds; ingest-to-alert can take tens of seconds.
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

ARTICLES = Counter("wirewatch_articles", "Articles seen by this worker, per stage", ["stage"], registry=REGISTRY)
ALERTS = Counter("wirewatch_alerts", "Alerts written by this worker", ["kind", "severity"], registry=REGISTRY)
DEADLETTERS = Counter(
    "wirewatch_deadletters", "Dead letters written by this worker", ["stage", "reason"], registry=REGISTRY
)
STAGE_SECONDS = Histogram(
    "wirewatch_stage_seconds",
    "Processing time per stage",
    ["stage"],
    buckets=STAGE_BUCKETS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "wirewatch_webhook_deliveries",
    "Alerts sent to webhooks by final outcome (delivered, rejected: permanent status, failed: retries used up)",
    ["webhook", "outcome"],
    registry=REGISTRY,
)
SINK_DELIVERIES = Counter(
    "wirewatch_sink_deliveries",
    "Alerts sent to plugin sinks by final outcome (delivered, rejected: permanent error, failed: retries used up)",
    ["sink", "outcome"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "wirewatch_deliveries",
    "Subscription deliveries per channel type by final outcome (delivered, rejected, failed)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "wirewatch_delivery_latency_seconds",
    "Seconds from an alert's detection to its delivery to a subscription's channel",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "wirewatch_consumer_lag",
    "Records not yet consumed (end offset - committed offset), read from the broker",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
STALLS = Counter(
    "wirewatch_stalls",
    "Agents found stalled by the watchdog: records waiting, no progress for WIREWATCH_STALL_SECONDS",
    ["agent"],
    registry=REGISTRY,
)

#: Recent durations per stage (seconds) for the dashboard's exact percentiles; bounded, so cheap.
_RECENT: dict[str, deque[float]] = {}
_RECENT_SIZE = 1024


def article(stage: str, count: int = 1) -> None:
    """Count ``count`` articles reaching ``stage`` (ingested, enriched, alerted, deadlettered...)."""
    ARTICLES.labels(stage=stage).inc(count)


def alert(kind: str, severity: str) -> None:
    ALERTS.labels(kind=kind or "unknown", severity=severity or "unknown").inc()


def dead_letter(stage: str, reason: str) -> None:
    DEADLETTERS.labels(stage=stage or "unknown", reason=reason or "unknown").inc()


def stall(agent: str) -> None:
    """Count one stall of ``agent`` found by the watchdog."""
    STALLS.labels(agent=agent).inc()


def sink_delivery(sink: str, outcome: str, alerts: int = 1) -> None:
    """Count the final outcome of ``alerts`` alerts (one batch) at the plugin sink ``sink``."""
    SINK_DELIVERIES.labels(sink=sink, outcome=outcome).inc(alerts)


def webhook_delivery(webhook: str, outcome: str) -> None:
    """Count one alert's final outcome at one webhook."""
    WEBHOOK_DELIVERIES.labels(webhook=webhook, outcome=outcome).inc()


def delivery(channel: str, outcome: str, latency: float | None = None) -> None:
    """Count one subscription delivery at a channel type, and its latency when it got through."""
    DELIVERIES.labels(channel=channel, outcome=outcome).inc()
    if latency is not None and outcome == "delivered":
        DELIVERY_SECONDS.labels(channel=channel).observe(max(0.0, latency))


def observe(stage: str, seconds: float) -> None:
    """Record one duration of ``stage`` (histogram + the recent window the dashboard reads)."""
    STAGE_SECONDS.labels(stage=stage).observe(seconds)
    _RECENT.setdefault(stage, deque(maxlen=_RECENT_SIZE)).append(seconds)


@contextlib.contextmanager
def stage_time(stage: str) -> Iterator[None]:
    """``with metrics.stage_time("enrich"): ...`` observes the block's wall time (also on error)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe(stage, time.perf_counter() - started)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    # Nearest rank: the ceil(q*n)-th value; the epsilon keeps 0.95*100 (95.00000000000001) at 95.
    rank = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered) - 1e-9) - 1))
    return ordered[rank]


def stage_percentiles() -> dict[str, dict[str, float | int | None]]:
    """p50/p95/p99 (milliseconds) and count of the recent window of every stage."""
    out: dict[str, dict[str, float | int | None]] = {}
    for stage, values in sorted(_RECENT.items()):
        snapshot = list(values)
        out[stage] = {"count": len(snapshot)}
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            value = percentile(snapshot, q)
            out[stage][name] = None if value is None else round(value * 1000, 2)
    return out


def set_lag(rows: Iterable[Any]) -> None:
    """Replace the lag gauge with ``rows`` (objects with group, topic, partition, lag)."""
    CONSUMER_LAG.clear()  # groups and partitions come and go: drop series that no longer exist
    for row in rows:
        if row.lag is not None:
            CONSUMER_LAG.labels(group=row.group, topic=row.topic, partition=str(row.partition)).set(row.lag)


# ---- feed errors: read from the feed runner's live health counters at scrape time --------------------
class FeedErrorsCollector(Collector):
    """``wirewatch_feed_errors_total{feed}`` from ``health()`` of the attached feed runner(s), plus errors
    counted with :func:`feed_error` by code that has no runner."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], Mapping[str, Any]]] = []
        self.counted: dict[str, int] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("wirewatch_feed_errors", "Failed feed polls", labels=["feed"])
        totals = dict(self.counted)
        for source in self.sources:
            for feed, health in feed_health_dicts(source()).items():
                totals[feed] = totals.get(feed, 0) + int(health.get("errors") or 0)
        for feed, errors in sorted(totals.items()):
            family.add_metric([feed], errors)
        yield family

    def describe(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("wirewatch_feed_errors", "Failed feed polls", labels=["feed"])


FEED_ERRORS = FeedErrorsCollector()
REGISTRY.register(FEED_ERRORS)


def feed_error(feed: str) -> None:
    """Count one failed poll of ``feed`` (for feeds run without a runner that reports health)."""
    FEED_ERRORS.counted[feed] = FEED_ERRORS.counted.get(feed, 0) + 1


def feed_health_dicts(health: Any) -> dict[str, dict[str, Any]]:
    """Normalise what a feed runner's ``health()`` returns (a mapping or list of FeedHealth-like objects
    or dicts) to ``{feed id: dict}``."""
    if health is None:
        return {}
    items: Iterable[tuple[str, Any]]
    if isinstance(health, Mapping):
        items = health.items()
    else:
        items = (
            (str(getattr(h, "id", None) or (h.get("id") if isinstance(h, Mapping) else i)), h)
            for i, h in enumerate(health)
        )
    out: dict[str, dict[str, Any]] = {}
    for feed, value in items:
        if hasattr(value, "to_dict"):
            value = value.to_dict()
        out[str(feed)] = dict(value) if isinstance(value, Mapping) else {"status": str(value)}
    return out


def watch_feeds(health: Callable[[], Any]) -> None:
    """Export the error counts of a feed runner: ``watch_feeds(runner.health)``."""
    FEED_ERRORS.sources.append(health)


# ---- the sensor ----------------------------------------------------------------------------------------
class StageSensor(Sensor):
    """A Faust sensor counting articles, alerts and dead letters from the topics a worker reads and writes.

    Cheap on the hot path: one string comparison per message, a JSON parse only for enriched, alert and
    dead-letter records.
    """

    def __init__(self, raw: str, enriched: str, alerts: str, deadletter: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raw, self.enriched, self.alerts, self.deadletter = raw, enriched, alerts, deadletter
        # An article that raised several alerts counts once as "alerted".
        self._alerted: OrderedDict[str, None] = OrderedDict()

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        if tp.topic == self.raw:
            article("ingested")

    def on_send_initiated(self, producer: Any, topic: str, message: PendingMessage, keysize: int, valsize: int) -> None:
        if topic == self.enriched:
            article("enriched")
            record = _json(message.value)
            ms = (record.get("processing") or {}).get("ms")
            if isinstance(ms, int | float):
                observe("enrich", ms / 1000)
        elif topic == self.alerts:
            record = _json(message.value)
            alert(str(record.get("kind") or ""), str(record.get("severity") or ""))
            delay = record.get("ingest_to_alert_ms")
            if isinstance(delay, int | float):
                observe("ingest_to_alert", delay / 1000)
            article_id = str(record.get("article_id") or "")
            if article_id not in self._alerted:
                self._alerted[article_id] = None
                if len(self._alerted) > 4096:
                    self._alerted.popitem(last=False)
                article("alerted")
        elif topic == self.deadletter:
            record = _json(message.value)
            dead_letter(str(record.get("stage") or ""), str(record.get("reason") or ""))
            article("deadlettered")


def _json(value: Any) -> dict[str, Any]:
    try:
        record = orjson.loads(value) if isinstance(value, bytes | str) else value
    except orjson.JSONDecodeError:
        return {}
    return record if isinstance(record, dict) else {}


# ---- wiring ------------------------------------------------------------------------------------------------
def render(*registries: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of wirewatch's registry followed by ``registries``."""
    return b"".join(generate_latest(r) for r in (REGISTRY, *registries))


def register_metrics(pipeline: Pipeline, path: str = "/metrics", token: str | None = None) -> CollectorRegistry:
    """Attach the counting sensor and Faust's Prometheus monitor to ``pipeline.app`` and serve ``path``
    (behind ``token`` when one is given: Prometheus sends it with ``authorization: {credentials: ...}``).

    Call before the worker starts (Faust reads ``app.monitor`` at start-up). Idempotent per app.
    Returns the registry of the Faust metrics (names ``faust_*``).
    """
    from aiohttp import web as aioweb
    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

    # Local: the web package's __init__ imports the dashboard, which imports this module (the dashboard
    # registers /metrics); at the top this would be an import cycle through the package.
    from .web.auth import is_authorized

    app: AppT = pipeline.app
    existing = getattr(app, "_wirewatch_metrics_registry", None)
    if existing is not None:
        return existing
    faust_registry = CollectorRegistry(auto_describe=True)
    # A fixed prefix (not the app id) keeps metric names the same in every deployment and in Grafana.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(faust_registry, "faust"))
    app.sensors.add(
        StageSensor(
            raw=pipeline.raw.get_topic_name(),
            enriched=pipeline.enriched.get_topic_name(),
            alerts=pipeline.alerts.get_topic_name(),
            deadletter=pipeline.deadletter.get_topic_name(),
        )
    )

    async def metrics_page(request: aioweb.Request) -> aioweb.Response:
        if not is_authorized(token, request.headers, request.cookies):
            return aioweb.Response(status=401, text="unauthorized\n", headers={"WWW-Authenticate": "Bearer"})
        return aioweb.Response(body=render(faust_registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.web.web_app.router.add_get(path, metrics_page)
    app._wirewatch_metrics_registry = faust_registry  # type: ignore[attr-defined]
    return faust_registry
