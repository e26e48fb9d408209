"""Sinks: where alerts go besides Kafka. The interface is :class:`AlertSink` (``base.py``); webhooks
(``webhook.py``) are the built-in sink; plugins register under the ``wirewatch.sinks`` entry-point group."""

from __future__ import annotations

from .base import AlertSink, Backoff, DeliveryResult, SinkConfigError, SinkError, SinkItem, SinkSet
from .registry import ENTRY_POINT_GROUP, load_sinks, sink_types
from .webhook import (
    Webhook,
    WebhookClient,
    WebhookConfigError,
    WebhookDispatcher,
    WebhookSink,
    load_webhooks,
    parse_webhooks,
    register_webhooks,
    sign,
    verify,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AlertSink",
    "Backoff",
    "DeliveryResult",
    "SinkConfigError",
    "SinkError",
    "SinkItem",
    "SinkSet",
    "Webhook",
    "WebhookClient",
    "WebhookConfigError",
    "WebhookDispatcher",
    "WebhookSink",
    "load_sinks",
    "load_webhooks",
    "parse_webhooks",
    "register_webhooks",
    "sign",
    "sink_types",
    "verify",
]
