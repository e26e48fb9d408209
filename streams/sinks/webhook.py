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

Connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (429/503
``Retry-After`` is honoured, capped); any other status outside 2xx is permanent. Redirects are not
followed (the signature must not travel to a host nobody configured).

The pure parts (:func:`parse_webhooks`, :class:`Webhook`, :class:`WebhookClient`,
:class:`WebhookDispatcher`) need no Kafka; :func:`register_webhooks` wires them to the worker.
"""

from __future__ import annotations

import asyncio
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
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import aiohttp
import orjson

from wirewatch import __version__

from ..records import json_schema, parse_rfc3339
from ..settings import SettingsError
from ..tail import SEVERITY_RANK, alert_filter
from ..tomlconfig import id_tables, read_toml

if TYPE_CHECKING:
    from faust.types import EventT

    from ..app import Pipeline

log = logging.getLogger(__name__)

STAGE = "webhook"  # the dead-letter stage of failed deliveries
USER_AGENT = f"wirewatch/{__version__}"
SIGNATURE_HEADER = "X-Wirewatch-Signature-256"
DELIVERY_HEADER = "X-Wirewatch-Delivery"
EVENT_HEADER = "X-Wirewatch-Event"

#: Statuses worth another attempt: the receiver is overloaded, restarting or asked us to slow down.
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})

_KEYS = (
    "id", "url", "secret", "secret_env", "kinds", "min_severity", "actors", "modalities", "max_age",
    "timeout", "max_attempts",
)  # fmt: skip
_MAX_TIMEOUT = 300.0
_MAX_ATTEMPTS = 100

Outcome = Literal["delivered", "rejected", "failed"]


class WebhookConfigError(SettingsError):
    """``webhooks.toml`` is missing or wrong; the message names the webhook and the key.

    A :class:`SettingsError`, so a worker with a bad file refuses to start like one with a bad variable.
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
@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``initial`` seconds, times ``factor`` per retry, at most ``maximum``; each wait
    is drawn from ``[base * (1 - jitter), base]`` so that many workers do not retry in lockstep."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.5

    def delay(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry`` (1 = after the first failed attempt)."""
        base = min(self.maximum, self.initial * self.factor ** max(0, retry - 1))
        return base * (1.0 - self.jitter * rng())


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


@dataclass(frozen=True)
class DeliveryResult:
    """How one alert went to one webhook."""

    webhook: str
    outcome: Outcome  # delivered (2xx) | rejected (permanent status, not retried) | failed (attempts used up)
    attempts: int
    status: int | None = None  # the last HTTP status (None: no answer)
    error: str | None = None  # the last error: "HTTP 500", "timeout (10s)", "connection error: ..."
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"

    def describe(self) -> str:
        """One line for logs and dead letters, e.g. ``desk: HTTP 500 after 5 attempts``."""
        what = "delivered" if self.ok else (self.error or f"HTTP {self.status}")
        plural = "" if self.attempts == 1 else "s"
        note = " (permanent, not retried)" if self.outcome == "rejected" else ""
        return f"{self.webhook}: {what} after {self.attempts} attempt{plural}{note}"


def headers_for(hook: Webhook, body: bytes, delivery_id: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: "alert",
        DELIVERY_HEADER: delivery_id,
    }
    if hook.secret:
        headers[SIGNATURE_HEADER] = sign(hook.secret, body)
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
        headers = headers_for(hook, body, delivery_id)
        timeout = aiohttp.ClientTimeout(total=hook.timeout)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        for attempt in range(1, hook.max_attempts + 1):
            wait: float | None = None
            try:
                async with self.session().post(
                    hook.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
                ) as response:
                    status = response.status
                    if 200 <= status < 300:
                        return DeliveryResult(hook.id, "delivered", attempt, status, None, time.monotonic() - started)
                    error = f"HTTP {status}" + await _excerpt(response)
                    if status not in RETRY_STATUSES:
                        return DeliveryResult(hook.id, "rejected", attempt, status, error, time.monotonic() - started)
                    wait = retry_after(response.headers.get("Retry-After"), self.backoff.maximum)
            except TimeoutError:  # aiohttp's timeouts subclass it
                status, error = None, f"timeout ({hook.timeout:g}s)"
            except aiohttp.ClientError as exc:
                status, error = None, f"connection error: {exc or type(exc).__name__}"
            except Exception as exc:  # a bug or an odd URL must not stop the other hooks or the agent
                log.exception("webhook %s: unexpected error", hook.id)
                error = f"{type(exc).__name__}: {exc}"
                return DeliveryResult(hook.id, "rejected", attempt, None, error, time.monotonic() - started)
            if attempt < hook.max_attempts:
                delay = wait if wait is not None else self.backoff.delay(attempt, self.rng)
                log.info("webhook %s: %s (attempt %d/%d), retrying in %.2fs", hook.id, error, attempt,
                         hook.max_attempts, delay)
                await asyncio.sleep(delay)
        return DeliveryResult(hook.id, "failed", hook.max_attempts, status, error, time.monotonic() - started)


async def _excerpt(response: aiohttp.ClientResponse, limit: int = 200) -> str:
    """A short, printable piece of an error response for the log and the dead letter ('' if none)."""
    try:
        data = await response.content.read(limit)
    except (aiohttp.ClientError, TimeoutError):
        return ""
    text = " ".join(data.decode("utf-8", errors="replace").split())
    return f" ({text[:limit]!r})" if text else ""


class InvalidAlert(ValueError):
    """A record on ``news.alerts`` that is not an Alert object (dead-lettered, never POSTed)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def decode_alert(body: Any) -> dict[str, Any]:
    if not isinstance(body, bytes | bytearray):
        raise InvalidAlert("wrong_type", f"the alert record is {type(body).__name__}, not bytes")
    try:
        alert = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidAlert("not_json", f"the alert record is not JSON: {exc}") from None
    if not isinstance(alert, dict):
        raise InvalidAlert("not_object", "the alert record is not a JSON object")
    return alert


class WebhookDispatcher:
    """Sends one alert to every matching webhook at once and counts the outcomes."""

    def __init__(self, hooks: Sequence[Webhook], client: WebhookClient | None = None) -> None:
        self.hooks = list(hooks)
        self.client = client or WebhookClient()

    def matching(self, alert: Mapping[str, Any]) -> list[Webhook]:
        return [hook for hook in self.hooks if hook.matches(alert)]

    async def dispatch(self, body: bytes) -> tuple[dict[str, Any], list[DeliveryResult]]:
        """Deliver the Alert ``body`` (its bytes unchanged) to every matching hook concurrently; returns the
        decoded alert and one result per matching hook. Raises :class:`InvalidAlert` for a non-alert."""
        alert = decode_alert(body)
        # alert_id is deterministic, so a re-delivery carries the same id; the hash covers odd records.
        delivery_id = str(alert.get("alert_id") or hashlib.sha256(body).hexdigest()[:32])
        hooks = self.matching(alert)
        results = await asyncio.gather(*(self._deliver(h, bytes(body), delivery_id) for h in hooks))
        return alert, list(results)

    async def _deliver(self, hook: Webhook, body: bytes, delivery_id: str) -> DeliveryResult:
        from .. import metrics  # local: this module stays importable without Faust (settings validate it)

        result = await self.client.deliver(hook, body, delivery_id)
        metrics.webhook_delivery(result.webhook, result.outcome)
        if result.ok:
            log.info("webhook %s: alert %s delivered (%d attempt(s))", hook.id, delivery_id, result.attempts)
        else:
            log.warning("webhook %s: alert %s not delivered: %s", hook.id, delivery_id, result.describe())
        return result

    async def aclose(self) -> None:
        await self.client.aclose()


# ---- the agent ----------------------------------------------------------------------------------------------
async def deliver_event(pipeline: Pipeline, dispatcher: WebhookDispatcher, event: EventT) -> list[DeliveryResult]:
    """Deliver one ``news.alerts`` event; each webhook that finally fails becomes a dead letter (stage
    ``webhook``, reason ``webhook_failed``) with the alert's bytes, so it can be replayed."""
    from ..app import dead_letter_for  # local: app imports this module while building the pipeline

    try:
        alert, results = await dispatcher.dispatch(event.message.value)
    except InvalidAlert as exc:
        await (await pipeline.dead_letter(dead_letter_for(event, STAGE, exc.reason, exc.detail)))
        return []
    article_id = alert.get("article_id") if isinstance(alert.get("article_id"), str) else None
    for result in results:
        if not result.ok:
            letter = dead_letter_for(event, STAGE, "webhook_failed", result.describe(), article_id)
            await (await pipeline.dead_letter(letter))
    return results


def register_webhooks(
    pipeline: Pipeline, hooks: Sequence[Webhook] | None = None, client: WebhookClient | None = None
) -> WebhookDispatcher:
    """Add the ``webhooks`` agent on ``news.alerts`` (the app's consumer group: each alert is delivered by
    the one worker owning its partition). ``hooks`` default to ``WIREWATCH_WEBHOOKS``'s file.

    An event is acknowledged only after every matching hook got it or was dead-lettered, so a worker that
    dies mid-delivery leaves it to the next owner of the partition (at least once).
    """
    if hooks is None:
        hooks = load_webhooks(pipeline.settings.webhooks)
    dispatcher = WebhookDispatcher(hooks, client)
    for hook in dispatcher.hooks:
        if not hook.secret:
            log.warning("webhook %s: no secret, deliveries are not signed", hook.id)

    @pipeline.app.agent(pipeline.alerts, name="webhooks")
    async def deliver_webhooks(stream: Any) -> None:
        # Manual acks: Faust's automatic ack sits in a ``finally`` and would also fire for an event whose
        # delivery a shutdown interrupted; acked by hand, such an event is sent again after a restart.
        manual = stream.noack()
        try:
            async for event in manual.events():
                await deliver_event(pipeline, dispatcher, event)
                await manual.ack(event)
        finally:
            await dispatcher.aclose()

    log.info("webhooks: %d hook(s): %s", len(dispatcher.hooks), ", ".join(h.id for h in dispatcher.hooks))
    return dispatcher
