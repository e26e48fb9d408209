"""The topic catalog (README "Topics"): names, keys, partitioning and cleanup policy."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Settings

RAW = "news.raw"
PRIORITY = "news.raw.priority"
ENRICHED = "news.enriched"
ALERTS = "news.alerts"
INCIDENTS = "news.incidents"
DEADLETTER = "news.deadletter"
SUBSCRIPTIONS = "news.subscriptions"
SUBSCRIPTION_STATE = "news.subscriptions.state"


#: Room above WIREWATCH_MAX_RECORD_BYTES for the record envelope and, on news.enriched, the entities.
LARGE_RECORD_HEADROOM = 1 << 20


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value: str
    compacted: bool = False
    #: Carries whole articles: allowed up to WIREWATCH_MAX_RECORD_BYTES (brokers default to 1 MB).
    large_records: bool = False

    def config(self, settings: Settings | None = None) -> dict[str, str]:
        config: dict[str, str] = {}
        if self.compacted:
            config["cleanup.policy"] = "compact"
        if self.large_records and settings is not None:
            config["max.message.bytes"] = str(settings.max_record_bytes + LARGE_RECORD_HEADROOM)
        return config


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec(RAW, "article id", "Article v1", large_records=True),
    TopicSpec(PRIORITY, "article id", "Article v1", large_records=True),
    TopicSpec(ENRICHED, "article id", "EnrichedArticle v1", large_records=True),
    TopicSpec(ALERTS, "incident id", "Alert v1"),
    TopicSpec(INCIDENTS, "incident id", "Incident v1", compacted=True),
    TopicSpec(DEADLETTER, "original key", "DeadLetter v1", large_records=True),  # carries the original record
    TopicSpec(SUBSCRIPTIONS, "subscription id", "Subscription (JSON; tombstone = removed)", compacted=True),
    TopicSpec(SUBSCRIPTION_STATE, "kind/subscription/channel[/incident]", "delivery memory (JSON)", compacted=True),
)


def topic_names(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in CATALOG]
