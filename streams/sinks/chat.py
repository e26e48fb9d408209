"""Chat sinks: Slack-compatible and Mattermost incoming webhooks. A message per alert (or a digest per
batch), coloured by severity: Slack blocks inside an attachment (the side bar carries the colour),
Mattermost's attachment format. The HTTP is the webhook sink's client (timeouts, retryable statuses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from . import message
from .base import AlertSink, SinkItem
from .webhook import USER_AGENT, WebhookClient


def _title(alerts: Sequence[Mapping[str, Any]]) -> str:
    return message.subject(alerts[0]) if len(alerts) == 1 else message.digest_subject(alerts)


def slack_payload(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    attachments = []
    for alert in alerts:
        quote = "\n".join(f"> {s}" for s in message.evidence(alert))
        link = f"\n<{alert['url']}|{alert.get('title') or alert['url']}>" if alert.get("url") else ""
        attachments.append(
            {
                "color": message.colour(alert),
                "fallback": message.subject(alert),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"*{message.subject(alert)}*"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": (quote + link) or " "}},
                    {
                        "type": "context",
                        "elements": [{"type": "mrkdwn", "text": f"incident `{alert.get('incident_id')}`"}],
                    },
                ],
            }
        )
    return {"text": _title(alerts), "attachments": attachments}


def mattermost_payload(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "username": "wirewatch",
        "text": _title(alerts),
        "attachments": [
            {
                "color": message.colour(alert),
                "fallback": message.subject(alert),
                "title": message.subject(alert),
                "title_link": alert.get("url") or None,
                "text": "\n".join(f"> {s}" for s in message.evidence(alert)),
                "fields": [
                    {"short": True, "title": "Severity", "value": str(alert.get("severity"))},
                    {"short": True, "title": "Modality", "value": str(alert.get("modality"))},
                    {"short": True, "title": "Actor", "value": str(alert.get("actor"))},
                    {"short": True, "title": "Incident", "value": str(alert.get("incident_id"))},
                ],
            }
            for alert in alerts
        ],
    }


PAYLOADS = {"slack": slack_payload, "mattermost": mattermost_payload}


class ChatSink(AlertSink):
    """POSTs the ``flavour``'s payload ("slack" or "mattermost") to an incoming-webhook ``url``."""

    stage = "chat"
    reason = "chat_failed"

    def __init__(
        self,
        id: str,
        *,
        url: str,
        flavour: str = "slack",
        timeout: float = 10.0,
        client: WebhookClient | None = None,
        **common: Any,
    ) -> None:
        super().__init__(id, **common)
        self.url, self.payload, self.timeout = url, PAYLOADS[flavour], timeout
        self.client = client or WebhookClient(backoff=self.backoff)

    async def write(self, items: Sequence[SinkItem]) -> int | None:
        body = orjson.dumps(self.payload([item.alert for item in items]))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Wirewatch-Delivery": ", ".join(item.delivery_id for item in items),
        }
        return await self.client.send(self.url, body, headers, self.timeout)

    async def aclose(self) -> None:
        await self.client.aclose()
