"""``wirewatch alerts tail``: print alerts from ``news.alerts`` as they arrive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

import orjson

from wirewatch.agents.taxonomy import TAXONOMY

from .records import evidence_texts
from .settings import Settings
from .topics import ALERTS

SEVERITY_RANK = TAXONOMY.severity_rank


def alert_filter(
    kinds: list[str] | None, min_severity: str | None, actors: list[str] | None
) -> Callable[[dict[str, Any]], bool]:
    wanted_kinds = {k.lower() for k in kinds or []}
    wanted_actors = {a.casefold() for a in actors or []}
    floor = SEVERITY_RANK.get((min_severity or "low").lower(), 0)

    def keep(alert: dict[str, Any]) -> bool:
        if wanted_kinds and str(alert.get("kind", "")).lower() not in wanted_kinds:
            return False
        if wanted_actors and str(alert.get("actor", "")).casefold() not in wanted_actors:
            return False
        return SEVERITY_RANK.get(str(alert.get("severity", "low")), 0) >= floor

    return keep


def format_alert(alert: dict[str, Any]) -> str:
    details = alert.get("details") if isinstance(alert.get("details"), dict) else {}
    facts = [f"{k}={v}" for k, v in details.items() if v not in (None, "", [])]
    evidence = next(iter(evidence_texts(alert)), "")
    speaker = f" speaker={alert['speaker']}" if alert.get("speaker") else ""
    return (
        f"[{str(alert.get('severity') or '?').upper():8}] {alert.get('actor')} {alert.get('modality')} "
        f"{alert.get('kind')} incident={alert.get('incident_id')}{speaker} {' '.join(facts)}\n"
        f"           {evidence[:240]}\n           {alert.get('url') or alert.get('article_id')}"
    )


async def tail_alerts(
    settings: Settings,
    bootstrap: list[str],
    *,
    keep: Callable[[dict[str, Any]], bool],
    as_json: bool,
    from_beginning: bool,
    out: TextIO,
    limit: int | None = None,
    idle_timeout: float | None = None,
) -> int:
    """Print matching alerts; stop after ``limit`` alerts or ``idle_timeout`` seconds without one."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        settings.topic(ALERTS),
        bootstrap_servers=bootstrap,
        group_id=None,  # a tail reads, it does not take partitions away from anyone
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        **settings.aiokafka_security(),
    )
    await consumer.start()
    shown = 0
    try:
        while limit is None or shown < limit:
            batch = await consumer.getmany(timeout_ms=int((idle_timeout or 1.0) * 1000))
            if not batch and idle_timeout is not None:
                break
            for message in (message for records in batch.values() for message in records):
                try:
                    alert = orjson.loads(message.value)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(alert, dict) or not keep(alert):  # any producer can write to the topic
                    continue
                out.write((orjson.dumps(alert).decode() if as_json else format_alert(alert)) + "\n")
                out.flush()
                shown += 1
                if shown == limit:  # one fetch may bring more than the limit leaves room for
                    break
    finally:
        await consumer.stop()
    return shown
