"""wirewatch's Prometheus metrics: helpers, the counting sensor, feed errors, the text exposition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from faust.types import TP
from prometheus_client.parser import text_string_to_metric_families

from wirewatch.streams import metrics
from wirewatch.streams.lag import LagRow


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one sample in wirewatch's registry (0 when absent)."""
    value = metrics.REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


@dataclass
class Pending:  # the fields of faust's PendingMessage the sensor reads
    value: bytes
    key: bytes | None = None


def sensor() -> metrics.StageSensor:
    return metrics.StageSensor(
        raw="p.news.raw", enriched="p.news.enriched", alerts="p.news.alerts", deadletter="p.news.deadletter"
    )


def test_documented_names_are_exposed() -> None:
    metrics.article("ingested")
    metrics.observe("enrich", 0.01)
    names = {family.name for family in text_string_to_metric_families(metrics.render().decode())}
    for name in (
        "wirewatch_articles",
        "wirewatch_alerts",
        "wirewatch_deadletters",
        "wirewatch_feed_errors",
        "wirewatch_stage_seconds",
        "wirewatch_consumer_lag",
    ):
        assert name in names, names


def test_helpers_move_their_counters() -> None:
    before = sample("wirewatch_alerts_total", {"kind": "icbm", "severity": "critical"})
    metrics.alert("icbm", "critical")
    assert sample("wirewatch_alerts_total", {"kind": "icbm", "severity": "critical"}) == before + 1
    before = sample("wirewatch_deadletters_total", {"stage": "validate", "reason": "not_json"})
    metrics.dead_letter("validate", "not_json")
    assert sample("wirewatch_deadletters_total", {"stage": "validate", "reason": "not_json"}) == before + 1


def test_stage_time_observes_even_when_the_block_raises() -> None:
    before = sample("wirewatch_stage_seconds_count", {"stage": "unit-raise"})
    with pytest.raises(ValueError), metrics.stage_time("unit-raise"):
        raise ValueError("boom")
    assert sample("wirewatch_stage_seconds_count", {"stage": "unit-raise"}) == before + 1
    assert metrics.stage_percentiles()["unit-raise"]["count"] >= 1


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert metrics.percentile(values, 0.5) == 50.0
    assert metrics.percentile(values, 0.95) == 95.0
    assert metrics.percentile(values, 0.99) == 99.0
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([7.0], 0.99) == 7.0


def test_sensor_counts_stages_from_the_topics() -> None:
    s = sensor()
    ingested = sample("wirewatch_articles_total", {"stage": "ingested"})
    s.on_message_in(TP("p.news.raw", 0), 0, object())  # type: ignore[arg-type]
    s.on_message_in(TP("p.news.enriched", 0), 0, object())  # type: ignore[arg-type]  # not an ingest
    assert sample("wirewatch_articles_total", {"stage": "ingested"}) == ingested + 1

    enriched = sample("wirewatch_articles_total", {"stage": "enriched"})
    count = sample("wirewatch_stage_seconds_count", {"stage": "enrich"})
    record = {"id": "a1", "processing": {"model": "m", "ms": 12.5, "batch": 4}}
    s.on_send_initiated(None, "p.news.enriched", Pending(orjson.dumps(record)), 0, 0)  # type: ignore[arg-type]
    assert sample("wirewatch_articles_total", {"stage": "enriched"}) == enriched + 1
    assert sample("wirewatch_stage_seconds_count", {"stage": "enrich"}) == count + 1


def test_sensor_counts_alerts_by_kind_and_an_article_once() -> None:
    s = sensor()
    labels = {"kind": "srbm", "severity": "medium"}
    before = sample("wirewatch_alerts_total", labels)
    alerted = sample("wirewatch_articles_total", {"stage": "alerted"})
    for incident in ("i1", "i2"):  # two alerts from one article
        alert: dict[str, Any] = {
            "kind": "srbm",
            "severity": "medium",
            "article_id": "art-unit-1",
            "incident_id": incident,
            "ingest_to_alert_ms": 250.0,
        }
        s.on_send_initiated(None, "p.news.alerts", Pending(orjson.dumps(alert)), 0, 0)  # type: ignore[arg-type]
    assert sample("wirewatch_alerts_total", labels) == before + 2
    assert sample("wirewatch_articles_total", {"stage": "alerted"}) == alerted + 1
    assert metrics.stage_percentiles()["ingest_to_alert"]["p50"] == pytest.approx(250.0)


def test_sensor_reads_dead_letter_stage_and_reason_and_survives_garbage() -> None:
    s = sensor()
    labels = {"stage": "alert", "reason": "bad_enriched_record"}
    before = sample("wirewatch_deadletters_total", labels)
    letter = {"stage": "alert", "reason": "bad_enriched_record", "error": "x"}
    s.on_send_initiated(None, "p.news.deadletter", Pending(orjson.dumps(letter)), 0, 0)  # type: ignore[arg-type]
    s.on_send_initiated(None, "p.news.alerts", Pending(b"\xff not json"), 0, 0)  # type: ignore[arg-type]
    assert sample("wirewatch_deadletters_total", labels) == before + 1
    assert sample("wirewatch_alerts_total", {"kind": "unknown", "severity": "unknown"}) >= 1


def test_lag_gauge_is_replaced_not_accumulated() -> None:
    metrics.set_lag([LagRow("g", "t", 0, committed=3, end=10), LagRow("g", "t", 1, committed=None, end=4)])
    assert sample("wirewatch_consumer_lag", {"group": "g", "topic": "t", "partition": "0"}) == 7
    assert sample("wirewatch_consumer_lag", {"group": "g", "topic": "t", "partition": "1"}) == 4
    metrics.set_lag([LagRow("g", "t", 0, committed=10, end=10)])
    assert sample("wirewatch_consumer_lag", {"group": "g", "topic": "t", "partition": "0"}) == 0
    assert (
        metrics.REGISTRY.get_sample_value("wirewatch_consumer_lag", {"group": "g", "topic": "t", "partition": "1"})
        is None
    )


class Health:
    def __init__(self, errors: int) -> None:
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {"errors": self.errors, "new": 1}


def test_feed_errors_come_from_the_runner_health_at_scrape_time() -> None:
    live = {"unit-rss": Health(2)}
    metrics.watch_feeds(lambda: live)
    assert sample("wirewatch_feed_errors_total", {"feed": "unit-rss"}) == 2
    live["unit-rss"].errors = 5  # the runner's live counters: no call needed to update the metric
    assert sample("wirewatch_feed_errors_total", {"feed": "unit-rss"}) == 5
    metrics.feed_error("unit-plugin")
    assert sample("wirewatch_feed_errors_total", {"feed": "unit-plugin"}) == 1


def test_feed_health_dicts_accepts_mappings_lists_and_objects() -> None:
    assert metrics.feed_health_dicts(None) == {}
    assert metrics.feed_health_dicts({"a": Health(1)}) == {"a": {"errors": 1, "new": 1}}
    assert metrics.feed_health_dicts([{"id": "b", "errors": 0}]) == {"b": {"id": "b", "errors": 0}}


def test_grafana_dashboard_queries_only_metrics_that_exist() -> None:
    """Every metric a Grafana panel queries is exported by wirewatch or by Faust's sensor."""
    import json
    import re
    from pathlib import Path

    from faust.sensors.prometheus import FaustMetrics
    from prometheus_client import CollectorRegistry

    repo = Path(__file__).resolve().parents[2]
    dashboard = json.loads((repo / "monitoring" / "grafana" / "dashboards" / "wirewatch.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b((?:wirewatch|faust)_[a-z_]+)\b", e)}
    assert any(m.startswith("wirewatch_consumer_lag") for m in used)

    faust_registry = CollectorRegistry()
    FaustMetrics.create(faust_registry, "faust")
    metrics.observe("enrich", 0.01)
    metrics.set_lag([LagRow("g", "t", 0, committed=0, end=1)])
    exported = set()
    for registry in (metrics.REGISTRY, faust_registry):
        for family in registry.collect():
            exported.add(family.name)
            exported.update(s.name for s in family.samples)
            if family.type == "counter":
                exported.add(family.name + "_total")
            if family.type == "histogram":
                exported.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    assert used <= exported, used - exported
    for panel in dashboard["panels"]:
        assert all(t["datasource"]["uid"] == "wirewatch-prometheus" for t in panel["targets"])
