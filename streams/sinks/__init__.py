"""Sinks: where alerts go besides Kafka. Webhooks (``webhook.py``) are the built-in one."""

from __future__ import annotations

from .webhook import (
    Backoff,
    DeliveryResult,
    Webhook,
    WebhookClient,
    WebhookConfigError,
    WebhookDispatcher,
    load_webhooks,
    parse_webhooks,
    register_webhooks,
    sign,
    verify,
)

__all__ = [
    "Backoff",
    "DeliveryResult",
    "Webhook",
    "WebhookClient",
    "WebhookConfigError",
    "WebhookDispatcher",
    "load_webhooks",
    "parse_webhooks",
    "register_webhooks",
    "sign",
    "verify",
]
