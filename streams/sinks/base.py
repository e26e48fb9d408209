"""The alert sink interface: what every output of ``news.alerts`` besides Kafka implements.

A sink writes alerts somewhere (an HTTP endpoint, a chat, a file). It implements one method,
:meth:`AlertSink.write`, for a batch of alerts, and raises :class:`SinkError` when the batch did not get
through (``retry=False`` when another attempt cannot help). Everything else is done here, once, for every
sink (after quix-streams' ``Sink``): batching (``batch_size`` alerts per write), filters (``kinds``,
``min_severity``), retries with exponential backoff and jitter (honouring a wait the target asked for),
outcomes counted in ``/metrics`` and logged; and, in :mod:`.agent`, the Faust agent that feeds the sinks
and turns each batch a sink finally failed into dead letters carrying the alerts' original bytes.

This module needs no Kafka: a sink can be tested by calling :meth:`AlertSink.deliver` directly.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import orjson

from .. import metrics
from ..settings import SettingsError
from ..tail import SEVERITY_RANK, alert_filter

log = logging.getLogger(__name__)

Outcome = Literal["delivered", "rejected", "failed"]


class SinkConfigError(SettingsError):
    """A sink's configuration is missing or wrong; the message names the sink and the key.

    A :class:`SettingsError`, so a worker with a bad file refuses to start like one with a bad variable.
    """


class SinkError(Exception):
    """A write did not get through. ``retry``: whether another attempt may succeed; ``retry_after``: the
    seconds the target asked to wait (None: the backoff decides); ``status``: the target's answer, if any."""

    def __init__(
        self, message: str, *, retry: bool = True, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry, self.retry_after, self.status = retry, retry_after, status


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


@dataclass(frozen=True)
class DeliveryResult:
    """How one batch of alerts went to one sink target."""

    target: str  # the sink's id (a webhook's id)
    outcome: Outcome  # delivered | rejected (permanent error, not retried) | failed (attempts used up)
    attempts: int
    status: int | None = None  # the target's last answer (e.g. an HTTP status; None: no answer)
    error: str | None = None  # the last error: "HTTP 500", "timeout (10s)", "connection error: ..."
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"

    @property
    def webhook(self) -> str:
        """The target under the webhook sink's name for it."""
        return self.target

    def describe(self) -> str:
        """One line for logs and dead letters, e.g. ``desk: HTTP 500 after 5 attempts``."""
        what = "delivered" if self.ok else (self.error or f"HTTP {self.status}")
        plural = "" if self.attempts == 1 else "s"
        note = " (permanent, not retried)" if self.outcome == "rejected" else ""
        return f"{self.target}: {what} after {self.attempts} attempt{plural}{note}"


async def attempt(
    target: str,
    write: Callable[[], Awaitable[int | None]],
    *,
    max_attempts: int,
    backoff: Backoff,
    rng: Callable[[], float] = random.random,
    kind: str = "sink",
) -> DeliveryResult:
    """Call ``write`` (which returns the target's status, or raises :class:`SinkError`) until it succeeds,
    fails permanently or ``max_attempts`` are used. Never raises (except on cancellation): every outcome is
    a :class:`DeliveryResult`; an unexpected exception is a bug in the sink and is not retried."""
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    for number in range(1, max_attempts + 1):
        try:
            status = await write()
            return DeliveryResult(target, "delivered", number, status, None, time.monotonic() - started)
        except SinkError as exc:
            status, error = exc.status, str(exc)
            if not exc.retry:
                return DeliveryResult(target, "rejected", number, status, error, time.monotonic() - started)
            wait = exc.retry_after
        except Exception as exc:  # a bug or an odd target must not stop the other sinks or the agent
            log.exception("%s %s: unexpected error", kind, target)
            error = f"{type(exc).__name__}: {exc}"
            return DeliveryResult(target, "rejected", number, None, error, time.monotonic() - started)
        if number < max_attempts:
            delay = min(backoff.maximum, wait) if wait is not None else backoff.delay(number, rng)
            log.info("%s %s: %s (attempt %d/%d), retrying in %.2fs", kind, target, error, number, max_attempts, delay)
            await asyncio.sleep(delay)
    return DeliveryResult(target, "failed", max_attempts, status, error, time.monotonic() - started)


@dataclass(frozen=True)
class SinkItem:
    """One alert for a sink: the record's bytes exactly as on ``news.alerts``, decoded, and a delivery id
    (the alert_id: the same on every retry and re-delivery, so receivers can drop repeats)."""

    body: bytes
    alert: Mapping[str, Any]
    delivery_id: str


class InvalidAlert(ValueError):
    """A record on ``news.alerts`` that is not an Alert object (dead-lettered, never given to a sink)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def decode_alert(body: Any) -> SinkItem:
    if not isinstance(body, bytes | bytearray):
        raise InvalidAlert("wrong_type", f"the alert record is {type(body).__name__}, not bytes")
    try:
        alert = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidAlert("not_json", f"the alert record is not JSON: {exc}") from None
    if not isinstance(alert, dict):
        raise InvalidAlert("not_object", "the alert record is not a JSON object")
    # alert_id is deterministic, so a re-delivery carries the same id; the hash covers odd records.
    delivery_id = str(alert.get("alert_id") or hashlib.sha256(body).hexdigest()[:32])
    return SinkItem(bytes(body), alert, delivery_id)


def _positive_int(where: str, key: str, value: Any, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise SinkConfigError(f"{where}: option {key!r} must be an integer from 1 to {maximum}, not {value!r}")
    return value


class AlertSink(abc.ABC):
    """An output for alerts. Subclass it, implement :meth:`write` (and :meth:`aclose` if it holds a
    connection), declare the options it takes in ``OPTIONS`` and publish it in the ``wirewatch.sinks``
    entry-point group; a ``[[sink]]`` table of ``WIREWATCH_SINKS``'s file with ``type = "<entry point>"``
    then builds it through :meth:`from_config`."""

    #: The options of a ``[[sink]]`` table this sink reads (besides the common ones); others are refused.
    OPTIONS: ClassVar[frozenset[str]] = frozenset()
    #: The options every sink takes: the filters and the delivery policy.
    COMMON: ClassVar[tuple[str, ...]] = ("id", "type", "kinds", "min_severity", "max_attempts", "batch_size")
    #: The dead-letter stage and reason of a batch this sink finally failed, and the word in its logs.
    stage: ClassVar[str] = "sink"
    reason: ClassVar[str] = "sink_failed"

    def __init__(
        self,
        id: str,
        *,
        kinds: Sequence[str] = (),
        min_severity: str | None = None,
        max_attempts: int = 5,
        batch_size: int = 1,
        backoff: Backoff | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.id = id
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.rng = rng
        self._keep = alert_filter(list(kinds) or None, min_severity, None)

    @classmethod
    def from_config(cls, table: Mapping[str, Any], where: str) -> AlertSink:
        """Build the sink from its ``[[sink]]`` table; raise :class:`SinkConfigError` naming ``where`` and
        the key for a bad one. The default checks the common options, refuses keys outside ``COMMON`` and
        ``OPTIONS``, and passes the sink's own options to the constructor as keyword arguments."""
        unknown = sorted(set(table) - set(cls.COMMON) - cls.OPTIONS)
        if unknown:
            known = ", ".join(sorted({*cls.COMMON, *cls.OPTIONS}))
            raise SinkConfigError(f"{where}: unknown option(s) {', '.join(map(repr, unknown))} (known: {known})")
        own = {key: value for key, value in table.items() if key in cls.OPTIONS}
        try:
            return cls(table["id"], **cls.common_options(table, where), **own)
        except (TypeError, ValueError) as exc:
            raise SinkConfigError(f"{where}: {exc}") from None

    @classmethod
    def common_options(cls, table: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The common options of a ``[[sink]]`` table as keyword arguments, checked."""
        out: dict[str, Any] = {}
        if "kinds" in table:
            kinds = table["kinds"]
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                raise SinkConfigError(f"{where}: option 'kinds' must be a list of strings")
            out["kinds"] = tuple(k.strip().lower() for k in kinds)
        if "min_severity" in table:
            severity = table["min_severity"]
            if not isinstance(severity, str) or severity.strip().lower() not in SEVERITY_RANK:
                raise SinkConfigError(f"{where}: option 'min_severity' must be one of {', '.join(SEVERITY_RANK)}")
            out["min_severity"] = severity.strip().lower()
        if "max_attempts" in table:
            out["max_attempts"] = _positive_int(where, "max_attempts", table["max_attempts"], 100)
        if "batch_size" in table:
            out["batch_size"] = _positive_int(where, "batch_size", table["batch_size"], 10_000)
        return out

    def accepts(self, alert: Mapping[str, Any]) -> bool:
        """Whether this sink wants ``alert`` (the ``kinds`` and ``min_severity`` filters by default)."""
        return self._keep(dict(alert))

    @abc.abstractmethod
    async def write(self, items: Sequence[SinkItem]) -> int | None:
        """Write one batch (at most ``batch_size`` alerts, in ``news.alerts`` order). Return the target's
        status (or None); raise :class:`SinkError` when the batch did not get through. A retry writes the
        whole batch again, so a target should drop repeats by ``delivery_id``."""

    async def aclose(self) -> None:  # noqa: B027 - optional: most sinks hold nothing to release
        """Release connections (called when the worker stops)."""

    async def deliver(self, items: Sequence[SinkItem]) -> list[DeliveryResult]:
        """Write ``items`` in batches of ``batch_size`` with retries; one counted, logged result per batch."""
        results = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            result = await attempt(
                self.id,
                lambda batch=batch: self.write(batch),  # type: ignore[misc]
                max_attempts=self.max_attempts,
                backoff=self.backoff,
                rng=self.rng,
                kind=self.stage,
            )
            self.count(result, len(batch))
            ids = ", ".join(item.delivery_id for item in batch)
            if result.ok:
                log.info("%s %s: alert(s) %s delivered (%d attempt(s))", self.stage, self.id, ids, result.attempts)
            else:
                log.warning("%s %s: alert(s) %s not delivered: %s", self.stage, self.id, ids, result.describe())
            results.append(result)
        return results

    def count(self, result: DeliveryResult, alerts: int) -> None:
        metrics.sink_delivery(result.target, result.outcome, alerts)


class SinkSet:
    """The sinks one agent feeds: each alert goes to every sink that accepts it, the sinks concurrently."""

    #: The agent's name, and the dead-letter stage of a record on ``news.alerts`` that is not an alert.
    agent = "sinks"
    stage = "sink"

    def __init__(self, sinks: Sequence[AlertSink]) -> None:
        self.sinks = list(sinks)

    @property
    def batch_size(self) -> int:
        return max((sink.batch_size for sink in self.sinks), default=1)

    async def deliver(self, items: Sequence[SinkItem]) -> list[tuple[AlertSink, list[SinkItem], DeliveryResult]]:
        """Every accepting sink's share of ``items``, delivered; one entry per batch written."""

        async def one(sink: AlertSink) -> list[tuple[AlertSink, list[SinkItem], DeliveryResult]]:
            mine = [item for item in items if sink.accepts(item.alert)]
            results = await sink.deliver(mine)
            batches = [mine[i : i + sink.batch_size] for i in range(0, len(mine), sink.batch_size)]
            return [(sink, batch, result) for batch, result in zip(batches, results, strict=True)]

        done = await asyncio.gather(*(one(sink) for sink in self.sinks))
        return [entry for per_sink in done for entry in per_sink]

    async def aclose(self) -> None:
        await asyncio.gather(*(sink.aclose() for sink in self.sinks), return_exceptions=True)
