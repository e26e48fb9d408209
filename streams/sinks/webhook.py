"""Webhooks: every alert on ``news.alerts`` POSTed to the configured URLs, signed, retried, dead-lettered.

``webhooks.toml`` (named by ``WIREWATCH_WEBHOOKS``)::

    [[webhook]]
    id = "desk"                                  # unique; names the hook in logs, metrics, dead letters
    url = "https://example.org/hooks/wirewatch"  # http or https
    secret_env = "DESK_HOOK_SECRET"              # or secret = "..."; signs the body (HMAC-SHA256)
    kinds = ["icbm", "irbm"]                     # optional filters: kinds, min_severity, actors,
    min_severity = "high"                        #   modalities, max_age (seconds since detected_at)
    timeout = 10                                 # seconds per attempt
    max_attempts = 5

The body is the Alert record's bytes exactly as they are on ``news.alerts``. Headers: ``Content-Type:
application/json``, ``X-Wirewatch-Event: alert``, ``X-Wirewatch-Delivery: <alert_id>`` (the same on every
retry and re-delivery, so receivers can drop repeats), ``User-Agent: wirewatch/<version>`` and, when the
hook has a secret, ``X-Wirewatch-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` (GitHub's form).
Standard Webhooks headers too: ``webhook-id`` (the delivery id), ``webhook-timestamp`` (Unix seconds) and,
with a secret, ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``; a ``whsec_`` secret
is used as Standard Webhooks defines it (base64 key), any other as its UTF-8 bytes.

Connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (429/503
``Retry-After`` is honoured, capped); any other status outside 2xx is permanent. Redirects are not
followed (the signature must not travel to a host nobody configured).

Each webhook is an :class:`~.base.AlertSink` (:class:`WebhookSink`): retries, backoff, dead letters and
metrics are the sink interface's; this module only knows HTTP. The pure parts (:func:`parse_webhooks`,
:class:`Webhook`, :class:`WebhookClient`, :class:`WebhookDispatcher`) need no Kafka;
:func:`register_webhooks` wires them to the worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from wirewatch import __version__

from .. import metrics
from ..records import json_schema, parse_rfc3339
from ..tail import SEVERITY_RANK, alert_filter
from ..tomlconfig import id_tables, read_toml
from .agent import deliver_events, register_sinks
from .base import (
    AlertSink,
    Backoff,
    DeliveryResult,
    SinkConfigError,
    SinkError,
    SinkItem,
    SinkSet,
    attempt,
    decode_alert,
)

if TYPE_CHECKING:
    from faust.types import EventT

    from ..pipeline import Pipeline

log = logging.getLogger(__name__)

STAGE = "webhook"  # the dead-letter stage of failed deliveries
USER_AGENT = f"wirewatch/{__version__}"
SIGNATURE_HEADER = "X-Wirewatch-Signature-256"
DELIVERY_HEADER = "X-Wirewatch-Delivery"
EVENT_HEADER = "X-Wirewatch-Event"
STANDARD_SECRET_PREFIX = "whsec_"

#: Statuses worth another attempt: the receiver is overloaded, restarting or asked us to slow down.
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})

_KEYS = (
    "id", "url", "secret", "secret_env", "kinds", "min_severity", "actors", "modalities", "max_age",
    "timeout", "max_attempts",
)  # fmt: skip
_MAX_TIMEOUT = 300.0
_MAX_ATTEMPTS = 100


class WebhookConfigError(SinkConfigError):
    """``webhooks.toml`` is missing or wrong; the message names the webhook and the key.

    A SettingsError, so a worker with a bad file refuses to start like one with a bad variable.
    """


# ---- signing --------------------------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison), for receivers."""
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is whatever the sender sent.
    return header is not None and hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


# ---- configuration --------------------------------------------------------------------------------------
def _alert_enum(name: str) -> tuple[str, ...]:
    # The shipped Alert schema is the contract: filter values are checked against it, not a copy.
    return tuple(json_schema("alert")["properties"][name]["enum"])


@dataclass(frozen=True)
class Webhook:
    """One ``[[webhook]]`` table: where to POST, how to sign, which alerts, how hard to try."""

    id: str
    url: str
    secret: str | None = field(default=None, repr=False)
    kinds: tuple[str, ...] = ()
    min_severity: str | None = None
    actors: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    #: Skip alerts detected more than this many seconds ago (a group's first start, a long outage).
    max_age: float | None = None
    timeout: float = 10.0
    max_attempts: int = 5

    def matches(self, alert: Mapping[str, Any], now: datetime | None = None) -> bool:
        """Whether ``alert`` passes the filters (kinds, min_severity and actors as ``alerts tail`` has them)."""
        keep = alert_filter(list(self.kinds) or None, self.min_severity, list(self.actors) or None)
        if not keep(dict(alert)):
            return False
        if self.modalities and str(alert.get("modality", "")).lower() not in self.modalities:
            return False
        if self.max_age is not None:
            detected = parse_rfc3339(alert.get("detected_at"))
            if detected is not None and ((now or datetime.now(UTC)) - detected).total_seconds() > self.max_age:
                return False
        return True


def _strings(where: str, key: str, value: Any, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]  # kinds = "icbm" means the obvious thing
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise WebhookConfigError(f"{where}: option {key!r} must be a list of strings")
    if allowed is None:
        return tuple(v.strip() for v in value)
    out = tuple(v.strip().lower() for v in value)
    wrong = [v for v in out if v not in allowed]
    if wrong:
        raise WebhookConfigError(
            f"{where}: option {key!r}: unknown value(s) {', '.join(map(repr, wrong))} (one of: {', '.join(allowed)})"
        )
    return out


def _number(where: str, key: str, value: Any, *, integer: bool = False, maximum: float | None = None) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise WebhookConfigError(f"{where}: option {key!r} must be {kind}, not {value!r}")
    if maximum is not None and value > maximum:
        raise WebhookConfigError(f"{where}: option {key!r} must be at most {maximum:g}, not {value!r}")
    return value


def _webhook(table: Mapping[str, Any], where: str, environ: Mapping[str, str]) -> Webhook:
    hook_id = table["id"]
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise WebhookConfigError(
            f"{where}: unknown option(s) {', '.join(map(repr, unknown))} (known: {', '.join(_KEYS)})"
        )
    url = table.get("url")
    if not isinstance(url, str) or not url.strip():
        raise WebhookConfigError(f"{where}: option 'url' is required (an http(s) URL)")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise WebhookConfigError(f"{where}: option 'url' must be an http(s) URL, not {url!r}")

    if "secret" in table and "secret_env" in table:
        raise WebhookConfigError(f"{where}: give either 'secret' or 'secret_env', not both")
    secret: str | None = None
    if "secret" in table:
        secret = table["secret"]
        if not isinstance(secret, str) or not secret:
            raise WebhookConfigError(f"{where}: option 'secret' must be a non-empty string")
    elif "secret_env" in table:
        name = table["secret_env"]
        if not isinstance(name, str) or not name:
            raise WebhookConfigError(f"{where}: option 'secret_env' must name an environment variable")
        secret = environ.get(name) or None
        if secret is None:
            raise WebhookConfigError(f"{where}: option 'secret_env': environment variable {name} is not set")

    min_severity = table.get("min_severity")
    if min_severity is not None:
        if not isinstance(min_severity, str) or min_severity.strip().lower() not in SEVERITY_RANK:
            raise WebhookConfigError(
                f"{where}: option 'min_severity' must be one of {', '.join(SEVERITY_RANK)}, not {min_severity!r}"
            )
        min_severity = min_severity.strip().lower()

    return Webhook(
        id=hook_id,
        url=url.strip(),
        secret=secret,
        kinds=_strings(where, "kinds", table["kinds"], _alert_enum("kind")) if "kinds" in table else (),
        min_severity=min_severity,
        actors=_strings(where, "actors", table["actors"]) if "actors" in table else (),
        modalities=(
            _strings(where, "modalities", table["modalities"], _alert_enum("modality")) if "modalities" in table else ()
        ),
        max_age=float(_number(where, "max_age", table["max_age"])) if "max_age" in table else None,
        timeout=float(_number(where, "timeout", table.get("timeout", 10.0), maximum=_MAX_TIMEOUT)),
        max_attempts=int(
            _number(where, "max_attempts", table.get("max_attempts", 5), integer=True, maximum=_MAX_ATTEMPTS)
        ),
    )


def parse_webhooks(
    data: Mapping[str, Any], source: str = "webhooks.toml", environ: Mapping[str, str] | None = None
) -> list[Webhook]:
    """The ``[[webhook]]`` tables of a parsed TOML document, checked. ``environ`` (default: the process
    environment) is where ``secret_env`` names are looked up: the one place webhooks read a variable."""
    env = os.environ if environ is None else environ
    tables = id_tables(data, "webhook", source, WebhookConfigError)
    if not tables:
        raise WebhookConfigError(f"{source}: no [[webhook]] tables (unset WIREWATCH_WEBHOOKS to run without)")
    return [_webhook(table, f"{source}: webhook {hook_id!r}", env) for hook_id, table in tables]


def load_webhooks(path: str | Path, environ: Mapping[str, str] | None = None) -> list[Webhook]:
    """Read and check ``webhooks.toml``; a missing file or bad TOML is a :class:`WebhookConfigError`."""
    return parse_webhooks(read_toml(path, "webhook configuration", WebhookConfigError), str(path), environ)


# ---- delivery -------------------------------------------------------------------------------------------
def retry_after(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), within [0, cap]."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(cap, max(0.0, seconds))


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: a Standard Webhooks secret (``whsec_`` + base64) is its decoded bytes,
    any other secret its UTF-8 bytes (a receiver's library then takes ``base64(secret)``)."""
    if secret.startswith(STANDARD_SECRET_PREFIX):
        return base64.b64decode(secret[len(STANDARD_SECRET_PREFIX) :] + "==")
    return secret.encode("utf-8")


def standard_signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` (the Standard Webhooks signature)."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()


def headers_for(hook: Webhook, body: bytes, delivery_id: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: "alert",
        DELIVERY_HEADER: delivery_id,
        # Standard Webhooks: the same id on every retry; verifiable with off-the-shelf libraries.
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
    }
    if hook.secret:
        headers[SIGNATURE_HEADER] = sign(hook.secret, body)
        headers["webhook-signature"] = standard_signature(hook.secret, delivery_id, timestamp, body)
    return headers


class WebhookClient:
    """POSTs bodies with retries. Holds one ``aiohttp.ClientSession`` (one connection pool), created in
    the running loop on first use; :meth:`aclose` closes it."""

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        session: aiohttp.ClientSession | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.rng = rng
        self._session = session
        self._owns_session = session is None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def deliver(self, hook: Webhook, body: bytes, delivery_id: str) -> DeliveryResult:
        """POST ``body`` to ``hook`` until a 2xx, a permanent status or ``hook.max_attempts``. Never raises
        (except on cancellation): every outcome is a :class:`DeliveryResult`."""
        return await attempt(
            hook.id,
            lambda: self.post(hook, body, delivery_id),
            max_attempts=hook.max_attempts,
            backoff=self.backoff,
            rng=self.rng,
            kind="webhook",
        )

    async def post(self, hook: Webhook, body: bytes, delivery_id: str) -> int:
        """One POST: the 2xx status, or a :class:`SinkError` saying whether to retry (and when)."""
        return await self.send(hook.url, body, headers_for(hook, body, delivery_id), hook.timeout)

    async def send(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """One POST of ``body`` to ``url`` (any HTTP sink's): the 2xx status, or a :class:`SinkError`."""
        try:
            async with self.session().post(
                url,
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    return status
                error = f"HTTP {status}" + await _excerpt(response)
                if status not in RETRY_STATUSES:
                    raise SinkError(error, retry=False, status=status)
                wait = retry_after(response.headers.get("Retry-After"), self.backoff.maximum)
                raise SinkError(error, retry_after=wait, status=status)
        except TimeoutError:  # aiohttp's timeouts subclass it
            raise SinkError(f"timeout ({timeout:g}s)") from None
        except aiohttp.ClientError as exc:
            raise SinkError(f"connection error: {exc or type(exc).__name__}") from None


async def _excerpt(response: aiohttp.ClientResponse, limit: int = 200) -> str:
    """A short, printable piece of an error response for the log and the dead letter ('' if none)."""
    try:
        data = await response.content.read(limit)
    except (aiohttp.ClientError, TimeoutError):
        return ""
    text = " ".join(data.decode("utf-8", errors="replace").split())
    return f" ({text[:limit]!r})" if text else ""


class WebhookSink(AlertSink):
    """One webhook as an alert sink: one alert per write, the hook's own filters and attempts."""

    OPTIONS = frozenset(_KEYS)
    COMMON = ()
    stage: ClassVar[str] = STAGE
    reason: ClassVar[str] = "webhook_failed"

    def __init__(self, hook: Webhook, client: WebhookClient | None = None) -> None:
        self.client = client or WebhookClient()
        super().__init__(hook.id, max_attempts=hook.max_attempts, backoff=self.client.backoff, rng=self.client.rng)
        self.hook = hook

    @classmethod
    def from_config(cls, table: Mapping[str, Any], where: str) -> WebhookSink:
        """A ``[[sink]]`` table with ``type = "webhook"`` takes the options of a ``[[webhook]]`` table."""
        return cls(_webhook({k: v for k, v in table.items() if k != "type"}, where, os.environ))

    def accepts(self, alert: Mapping[str, Any]) -> bool:
        return self.hook.matches(alert)

    async def write(self, items: Sequence[SinkItem]) -> int | None:
        status = None
        for item in items:
            status = await self.client.post(self.hook, item.body, item.delivery_id)
        return status

    def count(self, result: DeliveryResult, alerts: int) -> None:
        metrics.webhook_delivery(result.target, result.outcome)

    async def aclose(self) -> None:
        await self.client.aclose()


class WebhookDispatcher(SinkSet):
    """Sends one alert to every matching webhook at once (one :class:`WebhookSink` each, one client)."""

    agent = "webhooks"
    stage = STAGE

    def __init__(self, hooks: Sequence[Webhook], client: WebhookClient | None = None) -> None:
        self.hooks = list(hooks)
        self.client = client or WebhookClient()
        super().__init__([WebhookSink(hook, self.client) for hook in self.hooks])
        for hook in self.hooks:
            if not hook.secret:
                log.warning("webhook %s: no secret, deliveries are not signed", hook.id)

    def matching(self, alert: Mapping[str, Any]) -> list[Webhook]:
        return [hook for hook in self.hooks if hook.matches(alert)]

    async def dispatch(self, body: bytes) -> tuple[dict[str, Any], list[DeliveryResult]]:
        """Deliver the Alert ``body`` (its bytes unchanged) to every matching hook concurrently; returns the
        decoded alert and one result per matching hook. Raises :class:`InvalidAlert` for a non-alert."""
        item = decode_alert(body)
        return dict(item.alert), [result for _, _, result in await self.deliver([item])]

    async def aclose(self) -> None:
        await self.client.aclose()


# ---- the agent ----------------------------------------------------------------------------------------------
async def deliver_event(pipeline: Pipeline, dispatcher: WebhookDispatcher, event: EventT) -> list[DeliveryResult]:
    """Deliver one ``news.alerts`` event; each webhook that finally fails becomes a dead letter (stage
    ``webhook``, reason ``webhook_failed``) with the alert's bytes, so it can be replayed."""
    return await deliver_events(pipeline, dispatcher, [event])


def register_webhooks(
    pipeline: Pipeline, hooks: Sequence[Webhook] | None = None, client: WebhookClient | None = None
) -> WebhookDispatcher:
    """Add the ``webhooks`` agent on ``news.alerts`` (see :func:`.agent.register_sinks`). ``hooks`` default
    to ``WIREWATCH_WEBHOOKS``'s file."""
    if hooks is None:
        hooks = load_webhooks(pipeline.settings.webhooks)
    dispatcher = WebhookDispatcher(hooks, client)
    register_sinks(pipeline, dispatcher)
    return dispatcher
