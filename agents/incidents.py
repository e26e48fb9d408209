"""Incident grouping, pure: findings from many articles and feeds about one launch become one incident.

Rules (docs/ARCHITECTURE.md "What counts as an alert"): same actor, kind family and event window (by published time,
within ``window`` of the incident's first report) → one incident; a ``ballistic_unspecified`` finding joins
an open ballistic incident of the same actor and window, else opens a short-range one; the incident's kind
is refined as better reports arrive; modality rank is occurred > threatened > possible.

Warnings and launches: a warning (possible/threatened) never merges into a launch reported before it (a
warning after a launch is about the next one). A launch reported after a warning of the same actor and
family within the window is the warned-of event: the warning's incident escalates (modality → occurred,
severity up, ``version`` up, same id), and copies of the warning published before that launch report still
join it. An unnamed "ballistic missile" launch does not escalate a warning that named a class. Within one
article (same published time) a warning and a launch stay apart: "it fired one and may fire another" is
two events.

Ids are deterministic so that replays are no-ops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .detector import KIND_RANK, MODALITY_RANK, SEVERITY_RANK, Finding, kind_family
from .taxonomy import TAXONOMY

DEFAULT_WINDOW = timedelta(hours=48)
BALLISTIC_FAMILIES = frozenset({"long_range", "short_range"})
KIND_LABELS = TAXONOMY.kind_labels
MODALITY_WORDS = TAXONOMY.modality_labels


def alert_id(article_id: str, finding: Finding) -> str:
    """Deterministic: the same article and the same finding always give the same alert id."""
    digest = hashlib.sha256(f"{article_id}\x1f{finding.fingerprint()}".encode()).hexdigest()
    return f"alr-{digest[:20]}"


def modality_class(modality: str) -> str:
    """'occurred' or 'warning' (a warning incident escalates to occurred; its id keeps the class it opened with)."""
    return "occurred" if modality == "occurred" else "warning"


def level(modality: str, severity: str) -> tuple[int, int]:
    """An incident's escalation level: (modality rank, severity rank); its ``version`` counts the rises."""
    return MODALITY_RANK.get(modality, 0), SEVERITY_RANK.get(severity, 0)


def incident_family(kind: str) -> str:
    """The family an incident of this kind belongs to; unspecified ballistic opens a short-range one."""
    family = kind_family(kind)
    return "short_range" if family == "ballistic_unspecified" else family


def _iso(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Incident:
    """The latest state of one event (the value of ``news.incidents``, schema ``wirewatch.incident/v1``)."""

    incident_id: str
    actor: str
    kind: str
    modality: str
    first_seen: str
    last_seen: str
    article_ids: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    alert_count: int = 0
    max_severity: str = "medium"
    details: dict[str, Any] = field(default_factory=dict)
    headline: str = ""
    alert_ids: list[str] = field(default_factory=list)  # which findings are in, so replays change nothing
    version: int = 1  # 1, then +1 each time a report raises the level (modality or severity)
    occurred_at: str | None = None  # published time of the first launch report (None while a warning)
    escalated_from: str | None = None  # the warning's modality when a launch report escalated it

    @property
    def family(self) -> str:
        return incident_family(self.kind)

    @property
    def level(self) -> tuple[int, int]:
        return level(self.modality, self.max_severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "actor": self.actor,
            "kind": self.kind,
            "modality": self.modality,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "article_ids": list(self.article_ids),
            "feeds": list(self.feeds),
            "alert_count": self.alert_count,
            "max_severity": self.max_severity,
            "details": dict(self.details),
            "headline": self.headline,
            "alert_ids": list(self.alert_ids),
            "version": self.version,
            "occurred_at": self.occurred_at,
            "escalated_from": self.escalated_from,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Inverse of :meth:`to_dict`; unknown keys (e.g. the record's ``schema``) are ignored. State written
        before versions and escalation (a table restored after an upgrade) reads as version 1, a launch
        incident as occurred since its first report."""
        modality, first_seen = str(data["modality"]), str(data["first_seen"])
        occurred_at = data.get("occurred_at") or (first_seen if modality == "occurred" else None)
        return cls(
            incident_id=str(data["incident_id"]),
            actor=str(data["actor"]),
            kind=str(data["kind"]),
            modality=modality,
            first_seen=first_seen,
            last_seen=str(data["last_seen"]),
            article_ids=list(data.get("article_ids") or []),
            feeds=list(data.get("feeds") or []),
            alert_count=int(data.get("alert_count") or 0),
            max_severity=str(data.get("max_severity") or "medium"),
            details=dict(data.get("details") or {}),
            headline=str(data.get("headline") or ""),
            alert_ids=list(data.get("alert_ids") or []),
            version=int(data.get("version") or 1),
            occurred_at=str(occurred_at) if occurred_at else None,
            escalated_from=str(data["escalated_from"]) if data.get("escalated_from") else None,
        )


def _accepts(incident: Incident, finding: Finding, published_at: datetime, window: timedelta) -> bool:
    if incident.actor != finding.actor:
        return False
    if not _same_event_stage(incident, finding, published_at):
        return False
    # the event window is anchored on the first report, so a run of daily launches is not one endless
    # incident; a report published up to one window before it (late delivery) still joins
    first = _parse(incident.first_seen)
    if abs(published_at - first) > window:
        return False
    new_family = kind_family(finding.kind)
    if new_family == "ballistic_unspecified":
        return incident.family in BALLISTIC_FAMILIES
    if incident.kind == "ballistic_unspecified":
        # an unspecified report waits for the class: any ballistic report of the window refines it
        return new_family in BALLISTIC_FAMILIES
    return new_family == incident.family


def _same_event_stage(incident: Incident, finding: Finding, published_at: datetime) -> bool:
    """Whether a report's modality fits the incident: warnings join warnings and launches join launches; a
    launch reported strictly after the incident's first warning escalates it; a warning joins a launch
    incident only when published strictly before its first launch report (a late copy of the warning that
    preceded it). Strictly: a warning and a launch in one article are two events."""
    if modality_class(finding.modality) == "occurred":
        if incident.occurred_at is not None:
            return True
        # "a ballistic missile" does not confirm a warned-of ICBM: escalation needs the class, or a warning
        # that named none
        unnamed = kind_family(finding.kind) == "ballistic_unspecified" and incident.kind != "ballistic_unspecified"
        return not unnamed and published_at > _parse(incident.first_seen)
    return incident.occurred_at is None or published_at < _parse(incident.occurred_at)


def _refined_kind(current: str, new: str) -> str:
    """Unspecified → the named class; within a family the more specific/longer-range class wins."""
    if new == "ballistic_unspecified":
        return current
    if current == "ballistic_unspecified":
        return new
    return new if KIND_RANK.get(new, 0) > KIND_RANK.get(current, 0) else current


def _headline(actor: str, kind: str, modality: str, details: Mapping[str, Any]) -> str:
    """'North Korea: launch of 2 ballistic missiles toward the Sea of Japan (late November)'."""
    label = KIND_LABELS.get(kind, kind)
    count = details.get("count")
    what = (
        f"{count} {label}s" if isinstance(count, int) and count > 1 else f"a {label}" if kind != "icbm" else "an ICBM"
    )
    parts = [f"{actor}: {MODALITY_WORDS.get(modality, modality)} of {what}"]
    if details.get("location"):
        parts.append(str(details["location"]))
    if details.get("time_text"):
        parts.append(f"({details['time_text']})")
    return " ".join(parts)


#: Public: the one way an incident is described in a line (the subscriptions' messages use it too).
headline = _headline


def _headline_for(actor: str, kind: str, modality: str, details: Mapping[str, Any], title: str) -> str:
    """A generated summary of the incident as it stands (kind refined, details merged); the article
    title stands in only when the actor is unknown, as the summary would then say little."""
    if actor == "unknown" and title:
        return title
    return _headline(actor, kind, modality, details)


def _merge_details(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if value is None:
            continue
        if merged.get(key) is None:
            merged[key] = value
        elif key == "count" and isinstance(value, int) and isinstance(merged[key], int):
            merged[key] = max(merged[key], value)  # "at least one" then "two missiles"
    return merged


def new_incident_id(actor: str, kind: str, modality: str, article_id: str, finding: Finding) -> str:
    key = "\x1f".join([actor, incident_family(kind), modality_class(modality), article_id, finding.fingerprint()])
    return "inc-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def assign(
    open_incidents: list[Incident],
    finding: Finding,
    *,
    article_id: str,
    feed: str,
    title: str,
    published_at: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> tuple[Incident, bool]:
    """Fold ``finding`` into the open incidents: (the new or updated incident, whether anything changed).

    Pure: the incidents passed in are not modified; a re-delivered article/finding returns the incident
    that already holds it, unchanged.
    """
    published_at = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
    this_alert = alert_id(article_id, finding)
    for incident in open_incidents:
        if this_alert in incident.alert_ids:
            return incident, False
    matches = [i for i in open_incidents if _accepts(i, finding, published_at, window)]
    if not matches:
        details = dict(finding.details)
        incident = Incident(
            incident_id=new_incident_id(finding.actor, finding.kind, finding.modality, article_id, finding),
            actor=finding.actor,
            kind=finding.kind,
            modality=finding.modality,
            first_seen=_iso(published_at),
            last_seen=_iso(published_at),
            article_ids=[article_id],
            feeds=[feed],
            alert_count=1,
            max_severity=finding.severity,
            details=details,
            headline=_headline_for(finding.actor, finding.kind, finding.modality, details, title),
            alert_ids=[this_alert],
            occurred_at=_iso(published_at) if finding.modality == "occurred" else None,
        )
        return incident, True
    # an incident at the report's own stage first (another outlet's copy, not an escalation), then the one
    # closest in time to this report (most recent on ties)
    current = min(
        matches,
        key=lambda i: (
            modality_class(i.modality) != modality_class(finding.modality),
            abs((_parse(i.last_seen) - published_at).total_seconds()),
            -_parse(i.last_seen).timestamp(),
        ),
    )
    kind = _refined_kind(current.kind, finding.kind)
    modality = max(current.modality, finding.modality, key=lambda m: MODALITY_RANK.get(m, 0))
    severity = max(current.max_severity, finding.severity, key=lambda s: SEVERITY_RANK.get(s, 0))
    details = _merge_details(current.details, finding.details)
    first = min(_parse(current.first_seen), published_at)
    last = max(_parse(current.last_seen), published_at)
    occurred_at = current.occurred_at
    escalated_from = current.escalated_from
    if finding.modality == "occurred" and current.occurred_at is None:
        occurred_at, escalated_from = _iso(published_at), current.modality
    elif finding.modality == "occurred" and published_at < _parse(current.occurred_at or current.first_seen):
        occurred_at = _iso(published_at)  # an earlier launch report arrived late
    raised = level(modality, severity) > current.level
    updated = replace(
        current,
        kind=kind,
        modality=modality,
        first_seen=_iso(first),
        last_seen=_iso(last),
        article_ids=current.article_ids + ([article_id] if article_id not in current.article_ids else []),
        feeds=current.feeds + ([feed] if feed not in current.feeds else []),
        alert_count=current.alert_count + 1,
        max_severity=severity,
        details=details,
        headline=_headline_for(current.actor, kind, modality, details, title),
        alert_ids=[*current.alert_ids, this_alert],
        version=current.version + 1 if raised else current.version,
        occurred_at=occurred_at,
        escalated_from=escalated_from,
    )
    return updated, True
