"""The alert agent: findings keyed by actor → incidents table → ``news.alerts`` and ``news.incidents``.

The enrich agent, which runs the detector, sends each batch's alertable findings straight to an internal
topic keyed by actor, one message per actor and batch (:func:`findings_by_actor`), so every finding about
one actor is handled by the one worker that owns that actor's incidents in the changelog-backed table.
Reading them back out of ``news.enriched`` instead cost a broker hop (a fetch wait) and a decode of every
enriched record; one message per finding cost a consumed event, a changelog write and an incident record
per finding (about 3 % of two workers' throughput on the benchmark corpus).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import faust
import orjson

from wirewatch.streams.pipeline import dead_letter_for, send_until_delivered
from wirewatch.streams.records import ALERT_SCHEMA, INCIDENT_SCHEMA, now_rfc3339, parse_rfc3339
from wirewatch.streams.settings import Settings

from .detector import Finding
from .incidents import Incident, alert_id, assign

if TYPE_CHECKING:
    from wirewatch.streams.pipeline import Pipeline

log = logging.getLogger(__name__)
STAGE = "alert"


def finding_envelopes(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The alertable findings of one EnrichedArticle, each with the article facts an alert needs."""
    envelopes = []
    for signal in record.get("signals") or []:
        if not signal.get("alertable"):
            continue
        envelopes.append(
            {
                "article_id": record["id"],
                "url": record.get("url"),
                "title": record.get("title") or "",
                "feed": record.get("feed") or "unknown",
                # Incidents group by published time (docs/ARCHITECTURE.md); fetched time stands in when it is absent.
                "published_at": record.get("published_at") or record.get("fetched_at") or now_rfc3339(),
                "ingested_at_ms": (record.get("meta") or {}).get("ingested_at_ms"),
                "finding": signal,
            }
        )
    return envelopes


def findings_by_actor(
    records: Iterable[dict[str, Any]], max_bytes: int = 1_048_576
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The finding envelopes of ``records`` as findings messages ``(actor, envelopes)``: grouped by actor,
    in record order, and split so that a message stays within about ``max_bytes`` of JSON (a large batch
    of long findings is sent in parts, never refused by the broker)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for envelope in finding_envelopes(record):
            groups.setdefault(envelope["finding"].get("actor") or "", []).append(envelope)
    messages: list[tuple[str, list[dict[str, Any]]]] = []
    for actor, envelopes in groups.items():
        part: list[dict[str, Any]] = []
        size = 0
        for envelope in envelopes:
            length = len(orjson.dumps(envelope))
            if part and size + length > max_bytes:
                messages.append((actor, part))
                part, size = [], 0
            part.append(envelope)
            size += length
        messages.append((actor, part))
    return messages


def grouped_envelopes(value: Any) -> list[dict[str, Any]]:
    """The finding envelopes in one findings message: ``{"findings": [...]}``, or one bare envelope as
    workers before grouping sent (a rolling upgrade leaves some in the topic)."""
    if isinstance(value, dict) and isinstance(value.get("findings"), list):
        return [e for e in value["findings"] if isinstance(e, dict) and isinstance(e.get("finding"), dict)]
    if isinstance(value, dict) and isinstance(value.get("finding"), dict):
        return [value]
    log.warning("findings message of an unknown shape skipped: %.200r", value)
    return []


def apply_findings(
    open_incidents: list[Incident], envelopes: Iterable[dict[str, Any]], window: timedelta
) -> tuple[list[Incident], list[dict[str, Any]], list[dict[str, Any]]]:
    """Fold findings about one actor into its incidents, in order: (incidents after, alerts, incidents
    changed). An alert per finding that changed an incident; each changed incident once, in its last state
    (news.incidents is compacted: only the latest state counts)."""
    alerts: list[dict[str, Any]] = []
    changed: dict[str, dict[str, Any]] = {}
    for envelope in envelopes:
        open_incidents, alert, incident = apply_finding(open_incidents, envelope, window)
        if alert is not None and incident is not None:
            alerts.append(alert)
            changed.pop(incident["incident_id"], None)  # keep the order of last change
            changed[incident["incident_id"]] = incident
    return open_incidents, alerts, list(changed.values())


def alert_record(
    envelope: dict[str, Any], finding: Finding, incident: Incident, before: Incident | None = None
) -> dict[str, Any]:
    """The Alert v1 record of ``finding``; ``before``: its incident's state before it (None for a new one),
    so that an alert that raised the incident's level says from what (``escalates``)."""
    now_ms = time.time() * 1000
    ingested = envelope.get("ingested_at_ms")
    return {
        "schema": ALERT_SCHEMA,
        "alert_id": alert_id(envelope["article_id"], finding),
        "incident_id": incident.incident_id,
        "article_id": envelope["article_id"],
        "url": envelope.get("url"),
        "title": envelope.get("title") or "",
        "feed": envelope.get("feed"),
        "kind": finding.kind,
        "modality": finding.modality,
        "actor": finding.actor,
        "details": dict(finding.details),
        "severity": finding.severity,
        "confidence": finding.confidence,
        "evidence": [e.to_dict() for e in finding.evidence],
        "speaker": finding.speaker,
        "detected_at": now_rfc3339(),
        "ingest_to_alert_ms": round(now_ms - ingested, 1) if isinstance(ingested, int | float) else None,
        "incident_version": incident.version,
        "escalates": (
            {"modality": before.modality, "severity": before.max_severity}
            if before is not None and incident.version > before.version
            else None
        ),
    }


def incident_record(incident: Incident) -> dict[str, Any]:
    return {"schema": INCIDENT_SCHEMA, **incident.to_dict()}


def apply_finding(
    open_incidents: list[Incident], envelope: dict[str, Any], window: timedelta
) -> tuple[list[Incident], dict[str, Any] | None, dict[str, Any] | None]:
    """Fold one finding into an actor's incidents: (incidents after, alert or None, incident or None).

    A finding that changes nothing (a re-delivered article) yields no alert, so replays are no-ops.
    """
    finding = Finding.from_dict(envelope["finding"])
    published = parse_rfc3339(envelope.get("published_at")) or datetime.now(UTC)
    incident, changed = assign(
        open_incidents,
        finding,
        article_id=envelope["article_id"],
        feed=envelope.get("feed") or "unknown",
        title=envelope.get("title") or "",
        published_at=published,
        window=window,
    )
    if not changed:
        return open_incidents, None, None
    before = next((i for i in open_incidents if i.incident_id == incident.incident_id), None)
    kept = [i for i in open_incidents if i.incident_id != incident.incident_id]
    # Incidents far outside the window can never be joined again: dropping them bounds the table.
    horizon = published - 4 * window
    kept = [i for i in kept if (parse_rfc3339(i.last_seen) or published) >= horizon]
    return [*kept, incident], alert_record(envelope, finding, incident, before), incident_record(incident)


def alerts_for_records(
    records: Iterable[dict[str, Any]], settings: Settings
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alerts and final incidents for enriched records, offline (``wirewatch analyze``, tests)."""
    window = timedelta(hours=settings.incident_window_hours)
    by_actor: dict[str, list[Incident]] = {}
    alerts: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        for actor, envelopes in findings_by_actor([record]):
            by_actor[actor], new_alerts, changed = apply_findings(by_actor.get(actor, []), envelopes, window)
            alerts += new_alerts
            latest.update((incident["incident_id"], incident) for incident in changed)
    return alerts, list(latest.values())


async def track_findings(
    table: MutableMapping[str, Any],
    actor: str,
    envelopes: list[dict[str, Any]],
    window: timedelta,
    publish: Callable[[list[dict[str, Any]], list[dict[str, Any]]], Awaitable[None]],
) -> list[dict[str, Any]]:
    """Fold one findings message into ``table[actor]`` and publish what changed: the alerts sent.

    The table is written only once ``publish`` has delivered the incidents and alerts (it retries until they
    are). Its changelog is written on its own schedule, so a worker killed after a table write that came first
    could leave a changelog that already holds a finding whose alert never reached the broker; the re-delivered
    finding would then change nothing and its alert would be lost. Written after, a kill in between (or a
    rebalance: the agent acks the message itself, once this returns) re-sends the same alerts (same
    ``alert_id``: at least once, never lost). ``table`` gives an empty list for an actor it does not hold
    (the Faust table's default).
    """
    current = [Incident.from_dict(d) for d in table[actor]]
    updated, alerts, changed = apply_findings(current, envelopes, window)
    if alerts:
        await publish(changed, alerts)
        table[actor] = [i.to_dict() for i in updated]
    return alerts


def register(pipeline: Pipeline) -> None:
    app, settings = pipeline.app, pipeline.settings
    window = timedelta(hours=settings.incident_window_hours)
    by_actor = pipeline.findings = app.topic(
        f"{settings.app_id}-findings-by-actor",
        key_type=str,
        value_serializer="json",
        key_serializer="raw",
        partitions=settings.partitions,
        internal=True,
    )
    table = app.Table(
        "incidents-by-actor",
        default=list,
        partitions=settings.partitions,
        # JSON for keys too: a str key round-trips through the changelog unchanged on recovery.
        schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        help="open incidents per actor (changelog-backed)",
    )

    async def publish(changed: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
        # Incidents first: a reader of an alert can already look up its incident's state.
        sends = [partial(pipeline.send_json, pipeline.incidents, i["incident_id"], i) for i in changed]
        sends += [partial(pipeline.send_json, pipeline.alerts, a["incident_id"], a) for a in alerts]
        await send_until_delivered(sends)

    @app.agent(by_actor, name="incidents")
    async def track_incidents(stream: Any) -> None:
        # Acked by hand, once its alerts are delivered and the table written: an event Faust acks for us is
        # acked even when the agent fails or is cancelled (a rebalance) in the middle of it.
        events = stream.noack()
        async for event in events.events():
            key = event.key
            actor = key.decode() if isinstance(key, bytes) else str(key or "")
            try:
                alerts = await track_findings(table, actor, grouped_envelopes(event.value), window, publish)
            except Exception as exc:  # a bug must not stop the agent nor drop the message silently
                log.exception("findings message for %r failed; dead-lettered", actor)
                letter = dead_letter_for(event, STAGE, "processing_error", f"{type(exc).__name__}: {exc}")
                await send_until_delivered([partial(pipeline.dead_letter, letter)])
                alerts = []
            for alert in alerts:
                log.info(
                    "alert %s: %s %s %s (incident %s)",
                    alert["alert_id"],
                    alert["actor"],
                    alert["modality"],
                    alert["kind"],
                    alert["incident_id"],
                )
            await events.ack(event)
