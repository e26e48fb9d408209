"""What a person reads: one alert, or a digest of several, as a subject line, plain text, HTML and a
severity colour. Shared by the e-mail and chat sinks so that every channel says the same thing."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from wirewatch.agents.incidents import headline
from wirewatch.agents.taxonomy import TAXONOMY

from ..records import evidence_texts

#: Severity (the taxonomy's levels; a unit test keeps them in step) → colour of a chat attachment's bar and
#: of the e-mail's side rule.
SEVERITY_COLOURS = {"critical": "#8b0000", "high": "#d9381e", "medium": "#f2a30f", "low": "#2a7ab0"}


def colour(alert: Mapping[str, Any]) -> str:
    return SEVERITY_COLOURS.get(str(alert.get("severity")), "#808080")


def summary(alert: Mapping[str, Any]) -> str:
    """'North Korea: launch of 2 short-range ballistic missiles toward the Sea of Japan'."""
    details = alert.get("details") if isinstance(alert.get("details"), Mapping) else {}
    return headline(
        str(alert.get("actor") or "unknown actor"),
        str(alert.get("kind")),
        str(alert.get("modality")),
        {k: v for k, v in details.items() if k in ("count", "location")},
    )


def escalation(alert: Mapping[str, Any]) -> str | None:
    """'possible → occurred' (or 'high → critical' when only the severity rose) for an alert that raised
    its incident's level (the alert agent's ``escalates``); None for any other."""
    before = alert.get("escalates")
    if not isinstance(before, Mapping):
        return None
    if before.get("modality") != alert.get("modality"):
        return f"{before.get('modality')} → {alert.get('modality')}"
    return f"{before.get('severity')} → {alert.get('severity')}"


def subject(alert: Mapping[str, Any], prefix: str = "") -> str:
    """``[HIGH] North Korea: launch of 2 short-range ballistic missiles toward the Sea of Japan``; an
    escalation says so: ``[CRITICAL] Escalated (possible → occurred): North Korea: launch of an ICBM``."""
    raised = escalation(alert)
    marker = f"Escalated ({raised}): " if raised else ""
    return f"{prefix}[{str(alert.get('severity') or '?').upper()}] {marker}{summary(alert)}"


def digest_subject(alerts: Sequence[Mapping[str, Any]], prefix: str = "") -> str:
    incidents = len({a.get("incident_id") for a in alerts})
    top = max((str(a.get("severity")) for a in alerts), key=lambda s: TAXONOMY.severity_rank.get(s, -1))
    return f"{prefix}[{top.upper()}] wirewatch digest: {incidents} incident{'s' if incidents != 1 else ''}"


def evidence(alert: Mapping[str, Any]) -> list[str]:
    return evidence_texts(alert)[:3]


def _facts(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    details = alert.get("details") if isinstance(alert.get("details"), Mapping) else {}
    facts = [
        ("Severity", str(alert.get("severity"))),
        ("Kind", str(alert.get("kind"))),
        ("Modality", str(alert.get("modality"))),
        ("Actor", str(alert.get("actor"))),
    ]
    facts += [(key.replace("_", " ").capitalize(), str(value)) for key, value in details.items() if value is not None]
    if alert.get("speaker"):
        facts.append(("Speaker", str(alert["speaker"])))
    facts += [
        ("Source", str(alert.get("title") or "")),
        ("URL", str(alert.get("url") or "")),
        ("Incident", str(alert.get("incident_id"))),
        ("Escalated", escalation(alert) or ""),
    ]
    return [(k, v) for k, v in facts if v and v != "None"]


def text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The plain-text body: per alert its summary, facts and evidence sentences."""
    parts = []
    for alert in alerts:
        lines = [subject(alert), ""]
        lines += [f"{k}: {v}" for k, v in _facts(alert)]
        lines += ["", *(f"> {sentence}" for sentence in evidence(alert))]
        parts.append("\n".join(lines))
    return ("\n\n" + "-" * 60 + "\n\n").join(parts) + "\n"


def html_body(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The HTML body (escaped; no remote content)."""
    blocks = []
    for alert in alerts:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _facts(alert)
        )
        quotes = "".join(f"<blockquote>{html.escape(s)}</blockquote>" for s in evidence(alert))
        blocks.append(
            f"<div style='border-left:6px solid {colour(alert)};padding-left:8px;margin-bottom:16px'>"
            f"<h2>{html.escape(subject(alert))}</h2><table>{rows}</table>{quotes}</div>"
        )
    return "<!doctype html><html><body>" + "".join(blocks) + "</body></html>"
