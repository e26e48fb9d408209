"""The topic catalog of DESIGN.md: names, keys, partitioning and cleanup policy."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Settings

RAW = "news.raw"
ENRICHED = "news.enriched"
ALERTS = "news.alerts"
INCIDENTS = "news.incidents"
DEADLETTER = "news.deadletter"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value: str
    compacted: bool = False

    def config(self) -> dict[str, str]:
        return {"cleanup.policy": "compact"} if self.compacted else {}


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec(RAW, "article id", "Article v1"),
    TopicSpec(ENRICHED, "article id", "EnrichedArticle v1"),
    TopicSpec(ALERTS, "incident id", "Alert v1"),
    TopicSpec(INCIDENTS, "incident id", "Incident v1", compacted=True),
    TopicSpec(DEADLETTER, "original key", "DeadLetter v1"),
)


def topic_names(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in CATALOG]
